#!/usr/bin/env bash
# Idle keep-alive connections hold no I/O buffer (issue 3, memory per idle
# connection): after one request each, 300 idle connections leave
# `io_buffers` at 0; a connection that goes idle with half a request, or in
# the middle of a pipeline, keeps its bytes (buffer held) and is answered in
# order once the rest arrives. Also: the config's "workers" sets the worker
# count at start, and a reload that changes it keeps the running count.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 not installed"

cat >"$T/backend.py" <<'PY'
import sys, http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        body = ("path=%s\n" % self.path).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY

cat >"$T/client.py" <<'PY'
# client.py PORT SOCK: drives the checks; prints "ok <name>" or "FAIL <name>: why" lines.
import socket, sys, time
from ctlsock import l7_stats
port, sock = int(sys.argv[1]), sys.argv[2]

def stats():
    return l7_stats(sock)

def wait_buffers(pred, secs=10):
    # the gauge is updated at the end of each connection step: poll, never sleep blindly
    end = time.time() + secs
    while True:
        n = stats()["io_buffers"]
        if pred(n) or time.time() > end:
            return n
        time.sleep(0.05)

def read_response(s, buf):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d: raise EOFError("closed before a response head")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    clen = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length": clen = int(v)
    while len(rest) < clen:
        d = s.recv(65536)
        if not d: raise EOFError("closed mid-body")
        rest += d
    return head, rest[:clen], rest[clen:]

def check(name, cond, why=""):
    print(("ok %s" % name) if cond else ("FAIL %s: %s" % (name, why)), flush=True)

def req(path, host="t"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode()

# 1. 300 idle keep-alive connections, one request done on each: no buffer held
conns = []
for i in range(300):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(req("/idle/%d" % i))
    head, body, _ = read_response(s, b"")
    if body != ("path=/idle/%d\n" % i).encode():
        check("idle connections served", False, "conn %d got %r" % (i, body)); sys.exit(0)
    conns.append(s)
n = wait_buffers(lambda n: n == 0)
check("300 idle keep-alive connections hold no I/O buffer", n == 0, "io_buffers=%d" % n)
act = stats()["connections_active"]
check("the 300 connections are still open", act >= 300, "connections_active=%d" % act)

# 2. idle with half a request head: the bytes are kept (a buffer is held)
s = conns[0]
s.sendall(b"GET /half HTTP/1.1\r\nHo")
n = wait_buffers(lambda n: n >= 1)
check("half a request keeps its buffer", n >= 1, "io_buffers=%d" % n)
s.sendall(b"st: t\r\n\r\n")
head, body, _ = read_response(s, b"")
check("the completed request is answered", body == b"path=/half\n", repr(body))
n = wait_buffers(lambda n: n == 0)
check("answered, the buffers go back", n == 0, "io_buffers=%d" % n)

# 3. idle mid-pipeline: two whole requests and a third cut in its head, in
# one write; the first two are answered in order, the third after its rest
s = conns[1]
s.sendall(req("/p1") + req("/p2") + b"GET /p3 HTTP/1.1\r\nHost:")
rest = b""
head, b1, rest = read_response(s, rest)
head, b2, rest = read_response(s, rest)
check("pipelined requests answered in order", (b1, b2) == (b"path=/p1\n", b"path=/p2\n"), repr((b1, b2)))
n = wait_buffers(lambda n: n >= 1)
check("idle mid-pipeline keeps the partial request", n >= 1, "io_buffers=%d" % n)
time.sleep(0.2)   # stays idle a while longer: nothing may be lost meanwhile
s.sendall(b" t\r\n\r\n" + req("/p4"))
head, b3, rest = read_response(s, rest)
head, b4, rest = read_response(s, rest)
check("the rest of the pipeline answered in order", (b3, b4) == (b"path=/p3\n", b"path=/p4\n"), repr((b3, b4)))

# 4. every idle connection is still usable (buffers taken again on demand)
bad = 0
for i, s in enumerate(conns):
    s.sendall(req("/again/%d" % i))
    head, body, _ = read_response(s, b"")
    bad += body != ("path=/again/%d\n" % i).encode()
check("all 300 connections serve a second request", bad == 0, "%d wrong answers" % bad)
n = wait_buffers(lambda n: n == 0)
check("idle again, no buffer held", n == 0, "io_buffers=%d" % n)
for s in conns: s.close()
PY

PA=$(free_port); PL=$(free_port)
python3 "$T/backend.py" "$PA" >"$T/backend.log" 2>&1 &
PIDS+=($!)
wait_port "$PA" || { echo "backend did not start"; finish; }
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,"workers":2,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL}],
 "pools":[{"name":"app","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"all","listener":"web","pool":"app"}]}
JSON
start_tandemd "$T/c.json" || finish
wait_port "$PL"

python3 "$T/client.py" "$PL" "$T/tandemd.sock" >"$T/client.out" 2>&1
while read -r verdict name; do
	eq "$name" ok "$verdict"
done < <(sed -n 's/^\(ok\|FAIL\) \([^:]*\).*/\1 \2/p' "$T/client.out")
ok "client ran every check" -- test "$(grep -c '^\(ok\|FAIL\) ' "$T/client.out")" -eq 10
grep '^FAIL' "$T/client.out" || true

# workers: from the config at start; a reload that changes it keeps the count
status() { "$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"])'; }
eq "config workers=2 starts two workers" 2 "$(status)"
sed -i 's/"workers":2/"workers":3/' "$T/c.json"
"$B/daemon/tandemctl" -s "$T/tandemd.sock" reload >/dev/null
eq "a reload does not change the running worker count" 2 "$(status)"
ok "the reload says the count changes at restart" -- grep -q 'workers: the config asks for 3, 2 run' "$T/tandemd.log"
finish
