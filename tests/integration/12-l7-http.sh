#!/usr/bin/env bash
# The L7 data path over the wire, against a Python backend that echoes what
# it receives: pipelined requests answered in order, hop-by-hop fields
# removed both ways, upstream keep-alive reuse, HTTP/1.0 clients, HEAD,
# 100-continue, 414/431/400 with Connection: close, an upstream response
# with broken framing (502), and backpressure on a slow client (bounded RSS).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 not installed"
command -v nc >/dev/null || skip "nc not installed"

cat >"$T/backend.py" <<'PY'
import sys, http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, body, extra=()):
        self.send_response(200)
        for k, v in extra: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def do_GET(self):
        if self.path == "/echo":
            return self.reply("".join("%s: %s\n" % kv for kv in self.headers.items()).encode())
        if self.path == "/hop":
            return self.reply(b"hop\n", [("Keep-Alive", "timeout=5"), ("Connection", "X-Resp-Hop"),
                                          ("X-Resp-Hop", "1"), ("X-Resp-Keep", "1")])
        if self.path == "/badframing":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            self.close_connection = True; return
        if self.path.startswith("/big/"):
            n = int(self.path[5:]); blk = b"x" * 65536
            self.send_response(200); self.send_header("Content-Length", str(n * len(blk))); self.end_headers()
            for _ in range(n): self.wfile.write(blk)
            return
        self.reply(("path=%s\n" % self.path).encode())
    do_HEAD = do_GET
    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b""): pass
                    break
                data += self.rfile.read(n); self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.reply(("path=%s len=%d\n" % (self.path, len(data))).encode())
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY

PA=$(free_port); PL=$(free_port)
python3 "$T/backend.py" "$PA" >"$T/backend.log" 2>&1 &
PIDS+=($!)
wait_port "$PA" || { echo "backend did not start"; finish; }
write_config "$T/c.json" 1 "$PL" "$PA"
start_tandemd "$T/c.json" || finish
wait_port "$PL"
URL="http://127.0.0.1:$PL"
raw() { printf "$1" | timeout 10 nc -q 3 127.0.0.1 "$PL"; }
stat() { ctl stats | jq -r ".l7.$1"; }

# Pipelining: four requests in one write, answered in order.
got=$(raw 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcPOST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\nGET /4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' | grep '^path=' | tr '\n' ' ')
eq "pipelined requests answered in order" "path=/1 path=/2 len=3 path=/3 len=2 path=/4 " "$got"

# Hop-by-hop fields never cross the proxy.
got=$(curl -s -H 'Connection: keep-alive, X-Hop' -H 'X-Hop: 1' -H 'Keep-Alive: 300' -H 'TE: trailers' \
	-H 'Upgrade: h2c' -H 'Proxy-Connection: keep-alive' -H 'X-Keep: 1' "$URL/echo")
ok "end-to-end request field kept" -- grep -qi '^X-Keep: 1' <<<"$got"
ok "hop-by-hop request fields removed" -- bash -c "! grep -qiE '^(X-Hop|Keep-Alive|TE|Upgrade|Proxy-Connection|Connection):' <<<'$got'"
got=$(curl -s -D - -o /dev/null "$URL/hop")
ok "end-to-end response field kept" -- grep -qi '^X-Resp-Keep: 1' <<<"$got"
ok "hop-by-hop response fields removed" -- bash -c "! grep -qiE '^(X-Resp-Hop|Keep-Alive|Connection):' <<<'$got'"

# Upstream keep-alive: 30 sequential requests reuse pooled connections.
c0=$(stat upstream_connects)
for i in $(seq 30); do curl -s -o /dev/null "$URL/k$i"; done
c1=$(stat upstream_connects)
r1=$(stat upstream_reuses)
ok "upstream_connects and upstream_reuses counted ($c0 -> $c1, reuses $r1)" -- test "$c1" -ge 1 -a "$r1" -ge 30
ok "30 requests opened at most 3 upstream connections ($((c1 - c0)))" -- test $((c1 - c0)) -le 3

# HTTP/1.0 clients: keep-alive only when asked, no chunked framing.
got=$(raw 'GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n' | grep -E '^path=|^Connection:' | tr -d '\r' | tr '\n' ' ')
eq "HTTP/1.0 keep-alive honoured, then closed" "Connection: keep-alive path=/a Connection: close path=/b " "$got"

# HEAD has no body, and the connection stays in sync for the next request.
got=$(raw 'HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' | grep -cE '^HTTP/1.1 200|^path=/after')
eq "HEAD then GET on one connection" 3 "$got"

# 100-continue: curl sends Expect for large bodies and waits for the 100.
head -c 3000000 /dev/urandom >"$T/up.bin"
got=$(curl -s -H 'Expect: 100-continue' --data-binary @"$T/up.bin" "$URL/up")
eq "upload through Expect: 100-continue" "path=/up len=3000000" "$got"

# Refusals: status and Connection: close.
long=$(head -c 9000 /dev/zero | tr '\0' a)
got=$(raw "GET /$long HTTP/1.1\r\nHost: a\r\n\r\n" | tr -d '\r' | grep -E '^HTTP|^Connection' | tr '\n' ' ')
eq "414 with Connection: close" "HTTP/1.1 414 URI Too Long Connection: close " "$got"
got=$(raw "GET / HTTP/1.1\r\nHost: a\r\nX: $(head -c 17000 /dev/zero | tr '\0' b)\r\n\r\n" | head -1 | tr -d '\r')
eq "431 for an oversized head" "HTTP/1.1 431 Request Header Fields Too Large" "$got"
got=$(raw 'GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n' | tr -d '\r' | grep -cE '^HTTP|^path=/smuggled')
eq "obs-fold refused, nothing after it served" 1 "$got"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/badframing")
eq "upstream response with CL and TE: 502" 502 "$code"

# Backpressure: a slow reader of 32 MB costs the proxy buffers, not the body.
rss0=$(awk '/VmRSS/ {print $2}' /proc/$TANDEMD_PID/status)
got=$(curl -s --limit-rate 8M "$URL/big/512" | wc -c)
rss1=$(awk '/VmRSS/ {print $2}' /proc/$TANDEMD_PID/status)
eq "32 MB streamed to a slow client" 33554432 "$got"
ok "proxy RSS grew by less than 8 MB ($((rss1 - rss0)) kB)" -- test $((rss1 - rss0)) -lt 8192
finish
