#!/usr/bin/env bash
# WebSocket / Upgrade: a GET with "Connection: Upgrade" and "Upgrade" is
# forwarded with both, the member's 101 is relayed, and the connection turns
# into a tunnel copying bytes both ways (small and 1 MB echoes through the
# demo backend), ended by the listener's tunnel_idle_ms; the access log
# records the 101. An "Upgrade: h2c" is never tunnelled (h2c smuggling):
# the member, which would switch for any Upgrade, sees a plain request.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

PA=$(free_port); PL=$(free_port)
start_backend a "$PA"
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,"timeouts":{"tunnel_idle_ms":700},
               "access_log":{"path":"$T/access.log"}}],
 "pools":[{"name":"a","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"main","listener":"web","pool":"a"}]}
JSON
start_tandemd "$T/c.json" || finish
wait_port "$PL"
cat >"$T/ws.py" <<'PY'
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
s.sendall(b"GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
print(head.split(b"\r\n")[0].decode())
print("upgrade-header" if b"upgrade: websocket" in head.lower() else "no-upgrade-header")
s.sendall(b"hello tunnel")
got = b""
while len(got) < 12:
    got += s.recv(100)
print(got.decode())
big = os.urandom(1 << 20)
s.sendall(big)
got = b""
while len(got) < len(big):
    d = s.recv(65536)
    if not d:
        break
    got += d
print("1MB echoed" if got == big else "1MB mismatch %d" % len(got))
t = time.time()
try:
    d = s.recv(10)
    print("closed after idle" if d == b"" and time.time() - t > 0.5 else "unexpected %r" % d)
except socket.timeout:
    print("not closed")
PY
out=$(python3 "$T/ws.py" "$PL" 2>&1)
eq "101 relayed" "HTTP/1.1 101 Switching Protocols" "$(sed -n 1p <<<"$out")"
eq "Upgrade field relayed" "upgrade-header" "$(sed -n 2p <<<"$out")"
eq "bytes echo through the tunnel" "hello tunnel" "$(sed -n 3p <<<"$out")"
eq "1 MB both ways with backpressure" "1MB echoed" "$(sed -n 4p <<<"$out")"
eq "tunnel_idle_ms closes an idle tunnel" "closed after idle" "$(sed -n 5p <<<"$out")"
sleep 0.3
ok "the access log records the 101" -- jq -se '[.[] | select(.status == 101 and .path == "/chat")] | length == 1' "$T/access.log"
eq "plain requests still work" "backend a" "$(curl -s "http://127.0.0.1:$PL/" | head -1)"
# h2c: the demo backend answers 101 to any Upgrade it receives
h2c=$(curl -s -i -H 'Connection: Upgrade, HTTP2-Settings' -H 'Upgrade: h2c' \
	-H 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA' "http://127.0.0.1:$PL/smuggle/echo")
eq "Upgrade: h2c is answered in HTTP/1.1, not switched" "HTTP/1.1 200 OK" "$(head -1 <<<"$h2c" | tr -d '\r')"
seen=$(tr -d '\r' <<<"$h2c" | sed -n '/^backend a/,$p')
ok "the member answered the request itself" -- grep -q '^GET /smuggle/echo HTTP/1.1' <<<"$seen"
ok "the member saw neither Upgrade nor HTTP2-Settings" -- bash -c "! grep -qiE '^(upgrade|http2-settings|connection):' <<<'$seen'"
eq "curl --http2 over cleartext gets its answer in HTTP/1.1" "backend a" "$(curl -s --http2 "http://127.0.0.1:$PL/" | head -1)"
finish
