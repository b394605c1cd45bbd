#!/usr/bin/env python3
"""h2-mux-origin.py - an h2c origin (python3-h2) for
tests/integration/72-l7-h2-upstream-mux.sh and 79-l7-h2-upstream-tls.sh:
it counts connections and streams so a test can see how the proxy
multiplexes, and misbehaves on request.

  h2-mux-origin.py PORT LOGDIR [MAX_CONCURRENT_STREAMS [CERT KEY]]
      (MAX_CONCURRENT_STREAMS 0: not announced; over TLS with ALPN h2
      when CERT and KEY are given)
      Every accepted connection appends "conn" to LOGDIR/conns; the most
      streams open at once on any one connection goes to LOGDIR/maxopen.
      Every request is answered 200 "path=P conn=K" (K: the connection's
      number), with the header "x-origin: PORT", after the "sleep=MS" of its path, other streams going on
      meanwhile. Paths containing:
        rst      the stream is reset (RST_STREAM INTERNAL_ERROR)
        goaway   GOAWAY (last stream id: the highest seen) is sent at
                 once; the streams up to it are answered, later ones are
                 ignored (the proxy must send them again elsewhere), and
                 the connection closes after its last answer
        die      after 300 ms the connection is closed without a word
        refuse   the first such request (of the whole run) gets a GOAWAY
                 whose last stream id is below it: it was not processed
                 and must come again on another connection (its number
                 goes to LOGDIR/refused); later ones are answered
"""
import os
import socket
import ssl
import struct
import sys
import threading

import h2.config
import h2.connection
import h2.events
import h2.settings

HOST = "127.0.0.1"


def goaway_frame(last):
    """A raw GOAWAY (NO_ERROR): h2's own would close its state machine."""
    return struct.pack(">I", 8)[1:] + b"\x07\x00" + struct.pack(">I", 0) + struct.pack(">II", last, 0)


def main():
    port, logdir = int(sys.argv[1]), sys.argv[2]
    maxcs = int(sys.argv[3]) if len(sys.argv) > 3 else None
    tls = None
    if len(sys.argv) > 5:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[4], sys.argv[5])
        tls.set_alpn_protocols(["h2"])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, port))
    ls.listen(256)
    glock = threading.Lock()
    state = {"conns": 0, "maxopen": 0, "refused": False}

    def serve(s, k):
        if tls is not None:
            try:
                s = tls.wrap_socket(s, server_side=True)
            except (OSError, ssl.SSLError):
                return
        c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False,
                                                                 header_encoding="utf-8"))
        if maxcs:
            c.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: maxcs})
        c.initiate_connection()
        lock = threading.Lock()
        st = {"open": set(), "goaway": None, "dead": False}
        with lock:
            s.sendall(c.data_to_send())

        def flush():
            out = c.data_to_send()
            if out:
                s.sendall(out)

        def finish(sid):
            st["open"].discard(sid)
            if st["goaway"] is not None and not [i for i in st["open"] if i <= st["goaway"]]:
                st["dead"] = True
                s.shutdown(socket.SHUT_RDWR)

        def answer(sid, path):
            with lock:
                if st["dead"]:
                    return
                try:
                    if "rst" in path:
                        c.reset_stream(sid, error_code=2)
                    else:
                        text = ("path=%s conn=%d" % (path, k)).encode()
                        c.send_headers(sid, [(":status", "200"), ("content-type", "text/plain"),
                                             ("content-length", str(len(text))),
                                             ("x-origin", str(port))])
                        c.send_data(sid, text, end_stream=True)
                    flush()
                    finish(sid)
                except Exception:
                    pass

        def die():
            with lock:
                st["dead"] = True
                s.shutdown(socket.SHUT_RDWR)	# close() would wait for our own recv

        while True:
            try:
                data = s.recv(65536)
            except OSError:
                return
            if not data:
                return
            with lock:
                if st["dead"]:
                    return
                try:
                    events = c.receive_data(data)
                except Exception:
                    return
            for ev in events:
                if isinstance(ev, h2.events.RequestReceived):
                    sid, path = ev.stream_id, dict(ev.headers).get(":path", "")
                    if st["goaway"] is not None and sid > st["goaway"]:
                        continue	# above our GOAWAY: never processed
                    if "refuse" in path and not state["refused"]:
                        state["refused"] = True
                        with open(os.path.join(logdir, "refused"), "w") as f:
                            f.write("%d\n" % k)
                        with lock:
                            st["goaway"] = sid - 2
                            s.sendall(goaway_frame(sid - 2))
                            if not [i for i in st["open"] if i <= st["goaway"]]:
                                st["dead"] = True
                                s.shutdown(socket.SHUT_RDWR)
                        continue
                    with lock:
                        st["open"].add(sid)
                    with glock:
                        if len(st["open"]) > state["maxopen"]:
                            state["maxopen"] = len(st["open"])
                            with open(os.path.join(logdir, "maxopen"), "w") as f:
                                f.write("%d\n" % state["maxopen"])
                    if "goaway" in path:
                        with lock:
                            st["goaway"] = sid
                            s.sendall(goaway_frame(sid))
                    if "die" in path:
                        threading.Timer(0.3, die).start()
                        continue
                    ms = int(path.split("sleep=")[1].split("&")[0]) if "sleep=" in path else 0
                    if ms == 0:
                        answer(sid, path)	# in this thread: TLS sockets are not shared
                    else:
                        threading.Timer(ms / 1000.0, answer, (sid, path)).start()
                elif isinstance(ev, h2.events.DataReceived):
                    with lock:
                        c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamReset):
                    with lock:
                        st["open"].discard(ev.stream_id)
                    with glock, open(os.path.join(logdir, "resets"), "a") as f:
                        f.write("conn=%d code=%d\n" % (k, ev.error_code))
            with lock:
                try:
                    flush()
                except OSError:
                    return

    while True:
        s, _ = ls.accept()
        with glock:
            state["conns"] += 1
            k = state["conns"]
            with open(os.path.join(logdir, "conns"), "a") as f:
                f.write("conn\n")
        threading.Thread(target=serve, args=(s, k), daemon=True).start()


if __name__ == "__main__":
    main()
