#!/usr/bin/env python3
"""h2-streams.py - HTTP/2 origins and clients (python3-h2) for
tests/integration/88-*.sh and 89-*.sh.

  origin PORT CONNLOG   h2c origin (prior knowledge), one thread per
                        connection; each accepted connection appends a line
                        to CONNLOG; every request is answered 200 with
                        "path=P body=N trailers=k:v,..." (request trailers as
                        received); a path with "sleep=MS" answers after MS ms
                        (other streams go on meanwhile)
  h1origin PORT         HTTP/1.1 origin: reads a chunked request with its
                        trailer section and answers "trailers=k:v,..."
  trailers PORT PATH    one POST (no content-length, body "hello") ending
                        with trailers x-sum: 42 and x-tag: two; prints
                        "STATUS BODY"
  mix PORT              on ONE connection: GET /tarpit, GET /deny, then five
                        GET /fast; prints "deny STATUS", "fast K/5 before
                        tarpit" (K answered 200 before the tarpit's answer)
                        and "tarpit STATUS"
  many PORT N PATH      N GETs of PATH at once on one connection; prints
                        "200 x K" (K answered 200) and "other x R"
"""
import importlib.util
import os
import socket
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events

HOST = "127.0.0.1"

# the client connection of h2-abuse.py (same folder; its name has a dash)
_spec = importlib.util.spec_from_file_location(
    "h2_abuse", os.path.join(os.path.dirname(os.path.abspath(__file__)), "h2-abuse.py"))
_abuse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_abuse)
connect = _abuse.connect


def origin(port, connlog):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, port))
    ls.listen(128)

    def serve(s):
        c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False,
                                                                 header_encoding="utf-8"))
        c.initiate_connection()
        lock = threading.Lock()
        reqs = {}
        with lock:
            s.sendall(c.data_to_send())

        def answer(sid, text):
            with lock:
                try:
                    c.send_headers(sid, [(":status", "200"), ("content-type", "text/plain"),
                                         ("content-length", str(len(text)))])
                    c.send_data(sid, text, end_stream=True)
                    s.sendall(c.data_to_send())
                except Exception:
                    pass
                reqs.pop(sid, None)

        while True:
            try:
                data = s.recv(65536)
            except OSError:
                return
            if not data:
                return
            with lock:
                events = c.receive_data(data)
            for ev in events:
                if isinstance(ev, h2.events.RequestReceived):
                    reqs[ev.stream_id] = {"h": dict(ev.headers), "n": 0, "t": []}
                elif isinstance(ev, h2.events.DataReceived):
                    with lock:
                        c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    if ev.stream_id in reqs:
                        reqs[ev.stream_id]["n"] += len(ev.data)
                elif isinstance(ev, h2.events.TrailersReceived):
                    if ev.stream_id in reqs:
                        reqs[ev.stream_id]["t"] = list(ev.headers)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id in reqs:
                    r = reqs[ev.stream_id]
                    path = r["h"].get(":path", "")
                    text = ("path=%s body=%d trailers=%s" % (
                        path, r["n"], ",".join("%s:%s" % kv for kv in r["t"]))).encode()
                    ms = 0
                    if "sleep=" in path:
                        ms = int(path.split("sleep=")[1].split("&")[0])
                    threading.Timer(ms / 1000.0, answer, (ev.stream_id, text)).start()
            with lock:
                out = c.data_to_send()
                if out:
                    s.sendall(out)

    while True:
        s, _ = ls.accept()
        with open(connlog, "a") as f:
            f.write("conn\n")
        threading.Thread(target=serve, args=(s,), daemon=True).start()


def h1origin(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, port))
    ls.listen(16)

    def serve(s):
        f = s.makefile("rb")
        while True:
            line = f.readline()
            if not line:
                return
            while f.readline() not in (b"\r\n", b""):
                pass	# the rest of the head: the body is chunked
            while True:
                size = int(f.readline().split(b";")[0], 16)
                if size == 0:
                    break
                f.read(size + 2)
            lines = []
            while True:
                ln = f.readline()
                if ln in (b"\r\n", b""):
                    break
                lines.append(ln.decode().strip().replace(": ", ":"))
            body = ("trailers=" + ",".join(lines)).encode()
            s.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)

    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


def hdrs(port, method, path):
    return [(":method", method), (":path", path), (":scheme", "http"),
            (":authority", "%s:%d" % (HOST, port))]


def pump(s, c, want, done):
    """Reads until want(done) holds; done maps stream -> [status, body, t]."""
    while not want(done):
        data = s.recv(65536)
        if not data:
            return
        for ev in c.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                done.setdefault(ev.stream_id, [None, b"", None])[0] = dict(ev.headers)[":status"]
            elif isinstance(ev, h2.events.DataReceived):
                c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                done.setdefault(ev.stream_id, [None, b"", None])[1] += ev.data
            elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                done.setdefault(ev.stream_id, [None, b"", None])[2] = time.monotonic()
        s.sendall(c.data_to_send())


def trailers(port, path):
    s, c = connect(port)
    sid = c.get_next_available_stream_id()
    c.send_headers(sid, hdrs(port, "POST", path))
    c.send_data(sid, b"hello")
    c.send_headers(sid, [("x-sum", "42"), ("x-tag", "two")], end_stream=True)
    s.sendall(c.data_to_send())
    done = {}
    pump(s, c, lambda d: sid in d and d[sid][2] is not None, done)
    r = done.get(sid, [None, b"", None])
    print(r[0], r[1].decode(errors="replace"))


def mix(port):
    s, c = connect(port)
    ids = {}
    for name in ["tarpit", "deny"] + ["fast"] * 5:
        sid = c.get_next_available_stream_id()
        c.send_headers(sid, hdrs(port, "GET", "/" + name), end_stream=True)
        ids[sid] = name
    s.sendall(c.data_to_send())
    done = {}
    pump(s, c, lambda d: all(k in d and d[k][2] is not None for k in ids), done)
    tp = [k for k, v in ids.items() if v == "tarpit"][0]
    dn = [k for k, v in ids.items() if v == "deny"][0]
    fast = [k for k, v in ids.items() if v == "fast"]
    print("deny", done.get(dn, [None])[0])
    print("fast %d/5 before tarpit" % sum(
        1 for k in fast if k in done and done[k][0] == "200" and tp in done and
        done[tp][2] is not None and done[k][2] < done[tp][2]))
    print("tarpit", done.get(tp, [None])[0])


def many(port, n, path):
    s, c = connect(port)
    ids = []
    for _ in range(n):
        sid = c.get_next_available_stream_id()
        c.send_headers(sid, hdrs(port, "GET", path), end_stream=True)
        ids.append(sid)
    s.sendall(c.data_to_send())
    done = {}
    pump(s, c, lambda d: all(k in d and d[k][2] is not None for k in ids), done)
    ok = sum(1 for k in ids if done.get(k, [None])[0] == "200")
    print("200 x %d" % ok)
    print("other x %d" % (n - ok))


if __name__ == "__main__":
    m = sys.argv[1]
    if m == "origin":
        origin(int(sys.argv[2]), sys.argv[3])
    elif m == "h1origin":
        h1origin(int(sys.argv[2]))
    elif m == "trailers":
        trailers(int(sys.argv[2]), sys.argv[3])
    elif m == "mix":
        mix(int(sys.argv[2]))
    elif m == "many":
        many(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
