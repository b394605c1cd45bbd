#!/usr/bin/env bash
# Request smuggling, byte for byte: every malformed framing the parser must
# refuse is sent raw with a second request ("GET /smuggled") glued behind
# it. Each must get its error status, the connection must close, and the
# backend must never see the smuggled request (nor, for most, the first).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

PA=$(free_port); PL=$(free_port)
DEMO_BACKEND_LOG=1 start_backend a "$PA"
write_config "$T/c.json" 1 "$PL" "$PA"
start_tandemd "$T/c.json" || finish
wait_port "$PL"

cat >"$T/raw.py" <<'PY'
import socket, sys, time
port, data = int(sys.argv[1]), sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(3)
s.sendall(data)
buf, closed = b"", False
deadline = time.time() + 3
try:
    while time.time() < deadline:
        d = s.recv(65536)
        if not d:
            closed = True
            break
        buf += d
except (socket.timeout, ConnectionResetError):
    closed = isinstance(sys.exc_info()[1], ConnectionResetError)
status = buf.split(b" ", 2)[1].decode() if buf.startswith(b"HTTP/") else "none"
print(status, "closed" if closed else "open", buf.count(b"HTTP/1.1 "))
PY
SMUG='GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
# case DESCRIPTION EXPECTED-STATUS RAW-REQUEST (python escapes)
case_() {
	local out
	out=$(python3 "$T/raw.py" "$PL" "$3$SMUG")
	eq "$1: $2, connection closed, one answer" "$2 closed 1" "$out"
}
case_ "Content-Length with Transfer-Encoding" 400 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
case_ "Transfer-Encoding before Content-Length" 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\n'
case_ "two different Content-Length fields" 400 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'
case_ "Content-Length list with different values" 400 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!'
case_ "Content-Length with a sign" 400 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello'
case_ "Transfer-Encoding not ending in chunked" 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n'
case_ "unknown Transfer-Encoding (chunked not final: RFC 9112 6.3 says 400)" 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'
case_ "chunked twice" 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n'
case_ "obs-fold" 400 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n'
case_ "whitespace before the colon" 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'
case_ "bare CR in a field value" 400 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n'
case_ "bare LF line ends" 400 'GET / HTTP/1.1\nHost: x\n\n'
case_ "space in a field name" 400 'GET / HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n'
case_ "control character in a field name" 400 'GET / HTTP/1.1\r\nHost: x\r\nX\x01A: b\r\n\r\n'
case_ "NUL in a field value" 400 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'
case_ "chunk size overflow" 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n0\r\n\r\n'
case_ "chunk size with junk" 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n'
case_ "chunk without its CRLF" 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n'
case_ "HTTP/1.1 without Host" 400 'GET / HTTP/1.1\r\nX-A: b\r\n\r\n'
case_ "two Host fields" 400 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'
case_ "request line with two spaces" 400 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n'
case_ "HTTP/2.0 in an HTTP/1 request line" 505 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'
case_ "request target too long" 414 "GET /$(printf 'a%.0s' $(seq 9000)) HTTP/1.1\r\nHost: x\r\n\r\n"
case_ "header section too large" 431 "GET / HTTP/1.1\r\nHost: x\r\nX-Big: $(printf 'a%.0s' $(seq 17000))\r\n\r\n"

sleep 0.3
ok "the backend never saw a smuggled request" -- bash -c "! grep -q smuggled '$T/backend-a.log'"
n=$(grep -c '^req ' "$T/backend-a.log")
eq "the backend saw none of the refused requests" 0 "$n"
# and a well-formed request on the same listener still works
eq "a good request after all that" "backend a" "$(curl -s "http://127.0.0.1:$PL/" | head -1)"
finish
