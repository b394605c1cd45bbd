#!/usr/bin/env bash
# TLS read-ahead (issue 4, TLS CPU per request): tandemd reads several TLS
# records with one read(), so records can wait inside OpenSSL while the
# socket is empty. Checked with a client that places records in TCP
# segments itself (Python ssl.MemoryBIO): 40 pipelined requests, one record
# each, in one segment are answered in order; a 200 KB POST body sent in
# one go (far more than one 16 KiB buffer) arrives intact; a record cut in
# two is answered once its rest arrives, and tandemd does not spin
# meanwhile (counted in read calls, /proc/PID/io, not in time); a request
# followed by close_notify in the same segment (TCP left open) is answered
# and the connection is then closed; a request in the same segment as the
# client's Finished is answered; idle TLS connections hold no I/O buffer.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
command -v openssl >/dev/null || skip "openssl command missing"

C="$T/certs"	# tandemd's --cert-dir
pki_self www www.example.test DNS:www.example.test
pki_made www

cat >"$T/backend.py" <<'PY'
import sys, hashlib, http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self, body):
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_GET(self): self.answer(("path=%s\n" % self.path).encode())
    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.answer(("len=%d sha=%s\n" % (len(data), hashlib.sha256(data).hexdigest())).encode())
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY

cat >"$T/client.py" <<'PY'
# client.py PORT SOCK TANDEMD_PID: prints "ok <name>" or "FAIL <name>: why" lines.
import hashlib, os, socket, ssl, sys, time
from ctlsock import l7_stats
port, sock, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["http/1.1"])

def check(name, cond, why=""):
    print(("ok %s" % name) if cond else ("FAIL %s: %s" % (name, why)), flush=True)

class Conn:
    """TLS over a socket whose TCP writes we choose: records go to a MemoryBIO, we send its bytes."""
    def __init__(self, early=None):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.o = ctx.wrap_bio(self.inc, self.out, server_hostname="www.example.test")
        self.plain = b""
        while True:
            try:
                self.o.do_handshake(); break
            except ssl.SSLWantReadError:
                self.flush(); self.fill()
        if early is not None:
            self.o.write(early)   # the client's Finished and a request in one segment
        self.flush()
    def records(self, *chunks):
        """one TLS record per chunk, all returned as bytes (not sent)"""
        for c in chunks: self.o.write(c)
        return self.out.read()
    def flush(self):
        d = self.out.read()
        if d: self.s.sendall(d)
    def fill(self):
        d = self.s.recv(65536)
        if not d: raise EOFError("closed")
        self.inc.write(d)
    def read_plain(self):
        while True:
            try:
                d = self.o.read(65536)
                if not d: raise EOFError("close_notify")
                self.plain += d; return
            except ssl.SSLWantReadError:
                self.fill()
    def response(self):
        while b"\r\n\r\n" not in self.plain: self.read_plain()
        head, _, rest = self.plain.partition(b"\r\n\r\n")
        clen = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length": clen = int(v)
        while len(rest) < clen:
            self.read_plain(); head, _, rest = self.plain.partition(b"\r\n\r\n")
        self.plain = rest[clen:]
        return rest[:clen]

def req(path): return ("GET %s HTTP/1.1\r\nHost: www.example.test\r\n\r\n" % path).encode()

def stats():
    return l7_stats(sock)

def reads():  # read-type system calls tandemd made so far: a busy loop makes them by the thousand
    for line in open("/proc/%d/io" % pid):
        if line.startswith("syscr:"): return int(line.split()[1])

# 1. 40 pipelined requests, one record each, in one TCP segment
c = Conn()
c.s.sendall(c.records(*[req("/pipe/%d" % i) for i in range(40)]))
got = [c.response() for i in range(40)]
bad = [i for i in range(40) if got[i] != ("path=/pipe/%d\n" % i).encode()]
check("40 pipelined records in one segment answered in order", not bad, "wrong: %r" % bad[:5])

# 2. a 200 KB POST body in one go: the buffer fills while records wait in the session
body = os.urandom(200 * 1024)
head = ("POST /up HTTP/1.1\r\nHost: www.example.test\r\nContent-Length: %d\r\n\r\n" % len(body)).encode()
c.s.sendall(c.records(head, *[body[i:i + 16384] for i in range(0, len(body), 16384)]) + c.records(req("/after")))
r1, r2 = c.response(), c.response()
want = ("len=%d sha=%s\n" % (len(body), hashlib.sha256(body).hexdigest())).encode()
check("a 200 KB body sent at once arrives intact", r1 == want, repr(r1))
check("... and the request behind it is answered", r2 == b"path=/after\n", repr(r2))

# 3. a record cut in two: answered once the rest comes; no spinning while waiting
rec = c.records(req("/half"))
c.s.sendall(rec[:len(rec) // 2])
r0 = reads(); time.sleep(2.0); spent = reads() - r0
check("waiting for the rest of a record does not spin", spent < 100, "%d read calls in 2 s" % spent)
c.s.sendall(rec[len(rec) // 2:])
r = c.response()
check("the record completed later is answered", r == b"path=/half\n", repr(r))

# 4. request + close_notify in one segment, TCP left open by the client
c2 = Conn()
data = c2.records(req("/last"))
try:
    c2.o.unwrap()
except ssl.SSLWantReadError:
    pass
c2.s.sendall(data + c2.out.read())
r = c2.response()
check("a request followed by close_notify is answered", r == b"path=/last\n", repr(r))
how = "open"
try:
    while True: c2.read_plain()
except socket.timeout:
    how = "still open after 10 s"
except (EOFError, ssl.SSLError, OSError) as e:
    how = "closed"
check("... and then the connection is closed", how == "closed", how)

# 5. the request in the same segment as the client's Finished
c3 = Conn(early=req("/early"))
r = c3.response()
check("a request sent with the handshake's last flight is answered", r == b"path=/early\n", repr(r))

# 6. idle TLS connections hold no I/O buffer (ours; OpenSSL's are released too)
end = time.time() + 10
while stats()["io_buffers"] != 0 and time.time() < end: time.sleep(0.05)
n = stats()["io_buffers"]
check("idle TLS connections hold no I/O buffer", n == 0, "io_buffers=%d" % n)
r = c.records(req("/again")); c.s.sendall(r)
check("an idle TLS connection serves again", c.response() == b"path=/again\n")
PY

PA=$(free_port); PL=$(free_port)
python3 "$T/backend.py" "$PA" >"$T/backend.log" 2>&1 &
PIDS+=($!)
wait_port "$PA" || { echo "backend did not start"; finish; }
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"tls","address":"127.0.0.1","port":$PL,"tls":{"certificates":["www"]}}],
 "pools":[{"name":"app","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"all","listener":"tls","pool":"app"}]}
JSON
start_tandemd "$T/c.json" -w 1 --cert-dir "$T/certs" || finish
wait_port "$PL" || { cat "$T/tandemd.log"; finish; }

timeout 120 python3 "$T/client.py" "$PL" "$T/tandemd.sock" "$TANDEMD_PID" >"$T/client.out" 2>&1
while read -r verdict name; do
	eq "$name" ok "$verdict"
done < <(sed -n 's/^\(ok\|FAIL\) \([^:]*\).*/\1 \2/p' "$T/client.out")
ok "client ran every check" -- test "$(grep -c '^\(ok\|FAIL\) ' "$T/client.out")" -eq 10
grep '^FAIL' "$T/client.out" || true
grep -v '^\(ok\|FAIL\) ' "$T/client.out" | tail -5
finish
