#!/usr/bin/env bash
# HTTP/2 over TLS: a listener offering ALPN h2 and http/1.1 (doc/tls.md)
# hands h2 connections to the HTTP/2 front end: nghttp negotiates h2 and
# gets the member's answer with X-Forwarded-Proto https, a POST body and a
# 2 MB response pass whole, h2load gets 2xx only over h2, a rapid reset flood
# over TLS ends in GOAWAY while another TLS client is served meanwhile
# (tests/tools/h2-abuse.py, python3-h2), curl --http1.1 still
# gets HTTP/1.1, and a listener offering only http/1.1 never speaks h2.
# Buffers (doc/l7.md): once the streams are done they hold no I/O buffer,
# and an idle TLS keep-alive connection holds none either.
. "$(dirname "$0")/lib.sh"
command -v nghttp >/dev/null || skip "nghttp is not installed (nghttp2-client)"
command -v h2load >/dev/null || skip "h2load is not installed (nghttp2-client)"
command -v openssl >/dev/null || skip "openssl is not installed"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3	# Debian's, where python3-h2 lives
$PY -c 'import h2' 2>/dev/null || skip "python3-h2 is not installed"
ABUSE="$SRC/tests/tools/h2-abuse.py"
C="$T/certs"	# tandemd's --cert-dir
pki_self www www.example.test DNS:www.example.test
pki_made www

PA=$(free_port); PL=$(free_port); P1=$(free_port)
start_backend a "$PA"
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,
               "tls":{"certificates":["www"],"alpn":["h2","http/1.1"]}},
              {"name":"old","address":"127.0.0.1","port":$P1,
               "tls":{"certificates":["www"],"alpn":["http/1.1"]}}],
 "pools":[{"name":"a","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"main","listener":"web","pool":"a"},{"name":"old","listener":"old","pool":"a"}]}
JSON
start_tandemd "$T/c.json" --cert-dir "$T/certs" || finish
wait_port "$PL"
U="https://127.0.0.1:$PL"

out=$(timeout 10 nghttp -v "$U/echo" 2>&1)
ok "ALPN negotiates h2" -- grep -q "The negotiated protocol: h2" <<<"$out"
ok "the member's answer arrives over h2" -- grep -q "^backend a" <<<"$out"
ok "X-Forwarded-Proto https for a stream" -- grep -q "^X-Forwarded-Proto: https" <<<"$out"
head -c 200000 /dev/urandom >"$T/body.bin"
sum=$(od -An -v -tu1 "$T/body.bin" | awk '{for(i=1;i<=NF;i++)s+=$i} END{print s % 4294967296}')
eq "POST body over h2+TLS" "backend a got 200000 bytes sum $sum" "$(timeout 10 nghttp -d "$T/body.bin" "$U/p" | head -1)"
eq "a 2 MB response over h2+TLS" "2000000" "$(timeout 20 nghttp "$U/bytes?n=2000000" | wc -c)"
out=$(timeout 60 h2load -n 1000 -c 5 -m 10 "$U/" 2>&1)
ok "h2load over TLS: application protocol h2" -- grep -q "Application protocol: h2" <<<"$out"
ok "h2load over TLS: 1000 requests, all 2xx" -- grep -q "status codes: 1000 2xx, 0 3xx, 0 4xx, 0 5xx" <<<"$out"
# rapid reset over TLS, round after round, while another h2 client over TLS
# is served before, during and after (as 85-l7-h2.sh does over h2c)
$PY "$ABUSE" during "tls:$PL" "$T/flood" >"$T/good.out" 2>&1 &
good=$!
out=$(timeout 40 $PY "$ABUSE" flood "tls:$PL" rapid-reset 2000 "$T/flood" 2>&1)
wait "$good"
echo "# rapid reset over TLS: $(cut -d' ' -f1 "$T/flood") flood rounds"
eq "rapid reset over TLS: every round gets GOAWAY ENHANCE_YOUR_CALM and a close" "goaway 11 closed" "$(echo $out)"
eq "rapid reset over TLS: another client is served before, during and after" \
	"before 200 during 200 after 200" "$(echo $(cat "$T/good.out"))"
eq "curl --http1.1 on the same listener" "1.1" "$(curl -sk --http1.1 -o /dev/null -w '%{http_version}' "$U/")"
eq "curl --http2 on the same listener" "2" "$(curl -sk --http2 -o /dev/null -w '%{http_version}' "$U/")"
eq "a listener without h2 in its ALPN stays on HTTP/1.1" "1.1" \
	"$(curl -sk --http2 -o /dev/null -w '%{http_version}' "https://127.0.0.1:$P1/")"

# an idle TLS keep-alive connection (and every finished stream) holds no
# I/O buffer: io_buffers drops to 0 while it is open, and it still serves
cat >"$T/idle.py" <<'PY'
import socket, ssl, sys, time
from ctlsock import l7_stats
port, sock = int(sys.argv[1]), sys.argv[2]
def bufs():
    return l7_stats(sock)["io_buffers"]
def get(t):
    t.sendall(b"GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n")
    d = b""
    while b"\r\n\r\n" not in d:
        d += t.recv(65536)
    head, body = d.split(b"\r\n\r\n", 1)
    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
    while len(body) < n:
        body += t.recv(65536)
    return head.split(b"\r\n")[0].decode()
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="www.example.test")
first = get(t)
end = time.time() + 10
while bufs() != 0 and time.time() < end:
    time.sleep(0.05)
print(first, bufs(), get(t))
PY
eq "an idle TLS keep-alive connection holds no buffer, then serves again" \
	"HTTP/1.1 200 OK 0 HTTP/1.1 200 OK" "$(timeout 30 python3 "$T/idle.py" "$P1" "$T/tandemd.sock" 2>&1)"
finish
