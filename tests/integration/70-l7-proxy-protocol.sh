#!/usr/bin/env bash
# The PROXY protocol towards members: v1 (a text line) and v2 (binary) carry
# the client's address and the listener's, on every upstream connection
# (never shared between clients); the request follows unchanged.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

PA=$(free_port); PB=$(free_port); PL=$(free_port)
start_backend a "$PA"
cat >"$T/v2.py" <<'PY'
import socket, struct, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(8)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    data = b""
    while b"\r\n\r\n" not in data[16:] or len(data) < 16:
        d = c.recv(4096)
        if not d:
            break
        data += d
    sig = data[:12] == b"\r\n\r\n\x00\r\nQUIT\n"
    ver, fam, ln = data[12], data[13], struct.unpack("!H", data[14:16])[0]
    src = socket.inet_ntoa(data[16:20]); dst = socket.inet_ntoa(data[20:24])
    sport, dport = struct.unpack("!HH", data[24:28])
    req = data[16 + ln:].split(b"\r\n")[0].decode()
    body = ("v2 sig=%s ver=0x%x fam=0x%x %s:%d -> %s:%d %s\n" % (sig, ver, fam, src, sport, dst, dport, req)).encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    c.close()
PY
python3 "$T/v2.py" "$PB" >"$T/v2.log" 2>&1 &
PIDS+=($!)
wait_port "$PB"
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL}],
 "pools":[{"name":"p1","proxy_protocol":"v1","members":[{"address":"127.0.0.1","port":$PA}]},
          {"name":"p2","proxy_protocol":"v2","members":[{"address":"127.0.0.1","port":$PB}]}],
 "routes":[{"name":"one","listener":"web","path_prefix":"/one","pool":"p1"},
           {"name":"two","listener":"web","path_prefix":"/two","pool":"p2"}]}
JSON
start_tandemd "$T/c.json" || finish
wait_port "$PL"
out=$(curl -s "http://127.0.0.1:$PL/one/x" "http://127.0.0.1:$PL/one/y")
eq "v1: the request is served" "backend a
backend a" "$out"
sleep 0.2
n=$(grep -cE "^proxy PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 [0-9]+ $PL$" "$T/backend-a.log")
eq "v1: one PROXY line per upstream connection, client and listener addresses" 2 "$n"
out=$(curl -s "http://127.0.0.1:$PL/two/z")
ok "v2: binary header with client and listener ($out)" -- grep -qE "^v2 sig=True ver=0x21 fam=0x11 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$PL GET /two/z HTTP/1.1$" <<<"$out"
finish
