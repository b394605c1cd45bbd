#!/usr/bin/env bash
# tandemd's own TLS record layer (issue 4, memory per idle TLS connection;
# doc/tls.md "Record layer"): OpenSSL does the handshake, tandemd protects
# the records. Real clients against real tandemd: openssl s_client with
# every TLS 1.3 suite and every TLS 1.2 suite (ECDSA and RSA), curl
# keep-alive on both versions, ticket resumption (-sess_out/-sess_in),
# HTTP/2 (nghttp, h2load) through the taken-over layer, client KeyUpdate
# with and without update_requested, a corrupted record closes only its
# connection while another one keeps being served, and a listener with
# "record_layer": "openssl" serves as before; the stats gauges say which
# layer the open connections run on.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "openssl command missing"
command -v python3 >/dev/null || skip "python3 missing"
command -v curl >/dev/null || skip "curl missing"

C="$T/certs"	# tandemd's --cert-dir
pki_self www-ec www.example.test DNS:www.example.test
PKI_KEY=rsa pki_self www-rsa www.example.test DNS:www.example.test
pki_made www-ec www-rsa

PA=$(free_port); PL=$(free_port); PO=$(free_port)
start_backend a "$PA" || finish
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"tls","address":"127.0.0.1","port":$PL,
               "tls":{"certificates":["www-ec","www-rsa"],"alpn":["h2","http/1.1"]}},
              {"name":"ossl","address":"127.0.0.1","port":$PO,
               "tls":{"certificates":["www-ec"],"record_layer":"openssl"}}],
 "pools":[{"name":"app","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"a","listener":"tls","pool":"app"},{"name":"o","listener":"ossl","pool":"app"}]}
JSON
start_tandemd "$T/c.json" -w 1 --cert-dir "$T/certs" || finish
wait_port "$PL" || { cat "$T/tandemd.log"; finish; }
ok "tandemd log names no secret" -- bash -c "! grep -qi 'secret\|TRAFFIC' '$T/tandemd.log'"

REQ=$'GET /echo/s HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n'
S="openssl s_client -connect 127.0.0.1:$PL -servername www.example.test"
# suite VERSION-FLAG SUITE-FLAG SUITE: one request, the answer and the suite
suite() {
	local out
	out=$(printf '%s' "$REQ" | timeout 10 $S -ign_eof "$1" "$2" "$3" 2>&1)
	grep -q "^GET /echo/s" <<<"$out" && grep -q "Cipher is $3" <<<"$out"
}
for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
	ok "TLS 1.3 $s: answered" -- suite -tls1_3 -ciphersuites "$s"
done
for s in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305 \
	 ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305; do
	ok "TLS 1.2 $s: answered" -- suite -tls1_2 -cipher "$s"
done

for v in 1.2 1.3; do
	n=$(curl -sk --max-time 20 --tlsv$v --tls-max $v --http1.1 --resolve "www.example.test:$PL:127.0.0.1" \
		"https://www.example.test:$PL/echo/[1-30]" | grep -c '^GET /echo/')
	eq "curl TLS $v: 30 requests on one keep-alive connection" 30 "$n"
done
head -c 3000000 /dev/urandom >"$T/body"
want=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print("got %d bytes sum %d" % (len(d), sum(d) % 2**32))' "$T/body")
got=$(curl -sk --max-time 20 --http1.1 --resolve "www.example.test:$PL:127.0.0.1" \
	--data-binary @"$T/body" "https://www.example.test:$PL/post" | sed 's/^backend a //')
eq "curl: a 3 MB POST arrives intact (records of every size, partial ones kept)" "$want" "$got"
n=$(curl -sk --max-time 20 --http1.1 --resolve "www.example.test:$PL:127.0.0.1" \
	"https://www.example.test:$PL/chunked?n=100000" | grep -c '^chunk ')
eq "curl: a 1 MB answer arrives intact" 100000 "$n"
for v in -tls1_3 -tls1_2; do
	printf '%s' "$REQ" | timeout 10 $S -ign_eof $v -sess_out "$T/s$v" >"$T/first$v.txt" 2>&1
	ok "$v: first connection answered" -- grep -q "^GET /echo/s" "$T/first$v.txt"
	printf '%s' "$REQ" | timeout 10 $S -ign_eof $v -sess_in "$T/s$v" >"$T/again$v.txt" 2>&1
	ok "$v: the ticket resumes" -- grep -q "^Reused" "$T/again$v.txt"
	ok "$v: the resumed connection is answered" -- grep -q "^GET /echo/s" "$T/again$v.txt"
done

if command -v nghttp >/dev/null && command -v h2load >/dev/null; then
	out=$(timeout 10 nghttp "https://127.0.0.1:$PL/echo/h2" 2>&1)
	ok "nghttp: the answer arrives" -- grep -q "^GET /echo/h2" <<<"$out"
	out=$(timeout 30 h2load -n 400 -c 4 -m 10 "https://127.0.0.1:$PL/echo/l" 2>&1)
	ok "h2load: 400 requests, all 2xx" -- grep -q "400 succeeded, 0 failed, 0 errored" <<<"$out"
else
	echo "# nghttp2-client missing: HTTP/2 checks not run"
fi

# Client KeyUpdate: s_client's "k" (not requested) and "K" (requested) commands.
for cmd in k K; do
	out=$( (sleep 0.5; printf 'GET /echo/one HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 0.5; printf '%s\n' "$cmd"; sleep 0.5
		printf 'GET /echo/two HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 1) |
		timeout 10 $S -tls1_3 2>&1)
	ok "KeyUpdate ($cmd): s_client sent it" -- grep -q "KEYUPDATE" <<<"$out"
	ok "KeyUpdate ($cmd): answered before" -- grep -q "^GET /echo/one" <<<"$out"
	ok "KeyUpdate ($cmd): answered after, under the new keys" -- grep -q "^GET /echo/two" <<<"$out"
done

# A corrupted record and the layer gauges, from Python (MemoryBIO: we see the records).
cat >"$T/client.py" <<'PY'
import socket, ssl, sys, time
from ctlsock import l7_stats as stats
port, oport, sock = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["http/1.1"])
def check(name, cond, why=""):
    print(("ok %s" % name) if cond else ("FAIL %s: %s" % (name, why)), flush=True)
class Conn:
    def __init__(self, p):
        self.s = socket.create_connection(("127.0.0.1", p), timeout=10)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.o = ctx.wrap_bio(self.inc, self.out, server_hostname="www.example.test")
        while True:
            try:
                self.o.do_handshake(); break
            except ssl.SSLWantReadError:
                self.s.sendall(self.out.read()); self.fill()
        self.s.sendall(self.out.read())
    def fill(self):
        d = self.s.recv(65536)
        if not d: raise EOFError("closed")
        self.inc.write(d)
    def get(self, path, flip=False):
        self.o.write(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        rec = bytearray(self.out.read())
        if flip: rec[10] ^= 1
        self.s.sendall(bytes(rec))
        got = b""
        while path.encode() not in got:   # the echo names the path
            try:
                got += self.o.read(65536)
            except ssl.SSLWantReadError:
                self.fill()
        return got
a, b = Conn(port), Conn(port)
check("two connections served", b"/echo/a1" in a.get("/echo/a1") and b"/echo/b1" in b.get("/echo/b1"))
how = "answered"
try:
    a.get("/echo/bad", flip=True)
except (ssl.SSLError, EOFError, OSError) as e:
    how = "closed: %s" % e
check("a corrupted record closes its connection", how.startswith("closed"), how)
check("... with a bad_record_mac alert", "BAD_RECORD_MAC" in how.upper(), how)
check("the other connection keeps being served", b"/echo/b2" in b.get("/echo/b2"))
o = Conn(oport)
check("the record_layer openssl listener serves", b"/echo/o1" in o.get("/echo/o1"))
end = time.time() + 10
while time.time() < end:
    st = stats(sock)
    if st.get("tls_record_layer_tandem") == 1 and st.get("tls_record_layer_openssl") == 1: break
    time.sleep(0.1)
check("stats: one open connection on each record layer",
      st.get("tls_record_layer_tandem") == 1 and st.get("tls_record_layer_openssl") == 1, repr(st))
PY
timeout 60 python3 "$T/client.py" "$PL" "$PO" "$T/tandemd.sock" >"$T/client.out" 2>&1
while read -r verdict name; do
	eq "$name" ok "$verdict"
done < <(sed -n 's/^\(ok\|FAIL\) \([^:]*\).*/\1 \2/p' "$T/client.out")
ok "client ran every check" -- test "$(grep -c '^\(ok\|FAIL\) ' "$T/client.out")" -eq 6
grep -v '^\(ok\|FAIL\) ' "$T/client.out" | tail -5
ok "tandemd is still running" -- alive "$TANDEMD_PID"
finish
