#!/usr/bin/env python3
"""h2-abuse.py MODE PORT [N] - an HTTP/2 client (python3-h2) for
tests/integration/85-l7-h2.sh and 86-l7-h2-tls.sh. PORT "tls:N": h2 over
TLS (ALPN h2, the certificate not checked) instead of cleartext h2c.

Abusive modes send N frames of one kind on one HTTP/2 connection
and print "goaway CODE" (the GOAWAY error code received, 11 =
ENHANCE_YOUR_CALM) and "closed" once the server closed, or "no goaway":
  rapid-reset    HEADERS + RST_STREAM per stream (CVE-2023-44487)
  ping           PING frames
  settings       SETTINGS frames
  empty-data     empty DATA frames on one open stream
  priority       PRIORITY frames, each on a new idle stream
  continuation   one HEADERS without END_HEADERS, then CONTINUATION frames
Other modes:
  get PATH            one GET on a fresh connection: prints "STATUS BODY"
  big-header BYTES    one GET with a header of BYTES bytes: prints the status
  streams N           opens N requests at once to /sleep?n=1000: prints
                      "ok K refused R" (R = streams refused by the server)
Abuse while another client is served (one test runs both at once):
  flood MODE N STATE  the abusive MODE again and again, each time on a new
                      connection, until STATE.stop exists (30 s at most);
                      after each round STATE holds the rounds done so far,
                      "R end" when it stops. Prints "goaway 11 closed" when
                      every round ended so, else the first other outcome
  during STATE        the good client: one connection, GET before the flood
                      (it waits for the first round), then GETs on that
                      connection and on a new one each, until 2 more rounds
                      ended meanwhile (so a whole round ran during them);
                      creates STATE.stop, waits for "end", GETs again on the
                      first connection. Prints "before S", "during S" (S:
                      the status, 200 when every GET had 200), "after S"
"""
import os
import socket
import ssl
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack

HOST = "127.0.0.1"
SCHEME = "http"


def connect(port):
    s = socket.create_connection((HOST, port))
    s.settimeout(10)
    if SCHEME == "https":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        s = ctx.wrap_socket(s, server_hostname="www.example.test")
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                             header_encoding="utf-8"))
    c.initiate_connection()
    s.sendall(c.data_to_send())
    return s, c


def req_headers(port, path, extra=()):
    return [(":method", "GET"), (":path", path), (":scheme", SCHEME),
            (":authority", "%s:%d" % (HOST, port))] + list(extra)


def get(s, c, port, path, extra=()):
    """One request on connection (s, c): returns (status, body)."""
    sid = c.get_next_available_stream_id()
    c.send_headers(sid, req_headers(port, path, extra), end_stream=True)
    s.sendall(c.data_to_send())
    status, body = None, b""
    while True:
        data = s.recv(65536)
        if not data:
            return status, body
        for ev in c.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                status = dict(ev.headers).get(":status")
            elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                body += ev.data
                c.acknowledge_received_data(ev.flow_controlled_length, sid)
            elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                s.sendall(c.data_to_send())
                return status, body
            elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                return "reset%d" % ev.error_code, body
        s.sendall(c.data_to_send())


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def wait_goaway(s):
    """Reads raw frames until EOF: returns "goaway CODE" (or "no goaway") and
    "closed" (or "still open")."""
    buf, code, deadline = b"", None, time.time() + 10
    try:
        while time.time() < deadline:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except OSError:	# a timeout, a reset, TLS torn down
        pass
    closed = time.time() < deadline
    while len(buf) >= 9:
        ln = int.from_bytes(buf[:3], "big")
        if buf[3] == 7 and len(buf) >= 9 + 8:
            code = struct.unpack(">I", buf[13:17])[0]
        buf = buf[9 + ln:]
    return ("goaway %d" % code if code is not None else "no goaway",
            "closed" if closed else "still open")


def abuse(mode, port, n):
    """One abusive connection: returns what wait_goaway saw."""
    s, c = connect(port)
    out = []
    if mode == "rapid-reset":
        for _ in range(n):
            sid = c.get_next_available_stream_id()
            c.send_headers(sid, req_headers(port, "/sleep?n=200"))
            c.reset_stream(sid)
            out.append(c.data_to_send())
    elif mode == "ping":
        out = [frame(6, 0, 0, os.urandom(8)) for _ in range(n)]
    elif mode == "settings":
        out = [frame(4, 0, 0, struct.pack(">HI", 3, 100)) for _ in range(n)]
    elif mode == "empty-data":
        sid = c.get_next_available_stream_id()
        c.send_headers(sid, [(":method", "POST")] + req_headers(port, "/")[1:])
        out = [c.data_to_send()] + [frame(0, 0, sid) for _ in range(n)]
    elif mode == "priority":
        # exclusive=0, depends on stream 0, weight 16
        out = [frame(2, 0, 2 * i + 1, struct.pack(">IB", 0, 15)) for i in range(n)]
    elif mode == "continuation":
        enc = hpack.Encoder()
        block = enc.encode(req_headers(port, "/"))
        out = [frame(1, 0, 1, block)]	# HEADERS, no END_HEADERS
        for i in range(n):
            out.append(frame(9, 0, 1, enc.encode([("x-flood-%d" % i, "a" * 20)])))
    try:
        for chunk in out:
            s.sendall(chunk)
    except OSError:	# the server closed first
        pass
    r = wait_goaway(s)
    s.close()
    return r


def flood(mode, port, n, state):
    """abuse() on new connections until state.stop appears (30 s at most)."""
    rounds, bad, end = 0, None, time.time() + 30
    while not os.path.exists(state + ".stop") and time.time() < end:
        r = abuse(mode, port, n)
        if r != ("goaway 11", "closed") and bad is None:
            bad = r
        rounds += 1
        write_state(state, "%d" % rounds)
    write_state(state, "%d end" % rounds)
    print(*(bad or ("goaway 11", "closed")))


def write_state(state, text):
    with open(state + ".tmp", "w") as f:
        f.write(text)
    os.replace(state + ".tmp", state)	# the reader never sees it half written


def read_state(state):
    try:
        with open(state) as f:
            return f.read().split()
    except FileNotFoundError:
        return ["0"]


def during(port, state):
    """The good client beside flood(): see the module's doc."""
    s, c = connect(port)
    print("before", get(s, c, port, "/")[0])
    end = time.time() + 30
    while read_state(state)[0] == "0" and time.time() < end:
        time.sleep(0.01)
    r0, seen, n = int(read_state(state)[0]), set(), 0
    try:
        while time.time() < end and (n < 3 or int(read_state(state)[0]) < r0 + 2):
            seen.add(get(s, c, port, "/")[0])
            s2, c2 = connect(port)
            seen.add(get(s2, c2, port, "/")[0])
            s2.close()
            n += 1
    except OSError as e:
        seen.add(repr(e))
    finally:
        open(state + ".stop", "w").close()	# the flood stops in any case
    ran = int(read_state(state)[0]) - r0
    print("during", " ".join(sorted(map(str, seen))) if ran >= 2 else "only %d rounds meanwhile" % ran)
    while read_state(state)[-1] != "end" and time.time() < end:
        time.sleep(0.01)
    print("after", get(s, c, port, "/")[0])


def streams(port, n):
    s, c = connect(port)
    c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
    sids = []
    for _ in range(n):
        sid = c.get_next_available_stream_id()
        c.send_headers(sid, req_headers(port, "/sleep?n=1000"), end_stream=True)
        sids.append(sid)
    s.sendall(c.data_to_send())
    done, refused = set(), set()
    deadline = time.time() + 15
    while len(done) + len(refused) < n and time.time() < deadline:
        data = s.recv(65536)
        if not data:
            break
        for ev in c.receive_data(data):
            if isinstance(ev, h2.events.StreamEnded):
                done.add(ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                refused.add(ev.stream_id)
            elif isinstance(ev, h2.events.DataReceived):
                c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        s.sendall(c.data_to_send())
    print("ok %d refused %d" % (len(done), len(refused)))


def main():
    global SCHEME
    mode, port = sys.argv[1], sys.argv[2]
    if port.startswith("tls:"):
        SCHEME, port = "https", port[4:]
    port = int(port)
    arg = sys.argv[3] if len(sys.argv) > 3 else "1000"
    if mode == "get":
        s, c = connect(port)
        st, body = get(s, c, port, arg)
        print(st, body.decode(errors="replace").split("\n")[0])
    elif mode == "big-header":
        s, c = connect(port)
        st, _ = get(s, c, port, "/", [("x-big", "a" * int(arg))])
        print(st)
    elif mode == "streams":
        streams(port, int(arg))
    elif mode == "flood":
        flood(arg, port, int(sys.argv[4]), sys.argv[5])
    elif mode == "during":
        during(port, arg)
    else:
        print(*abuse(mode, port, int(arg)), sep="\n")


if __name__ == "__main__":
    main()
