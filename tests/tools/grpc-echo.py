#!/usr/bin/env python3
"""grpc-echo.py - a real gRPC server and client (python3-grpcio) for
tests/integration/87-l7-grpc.sh. Messages are raw bytes (no protobuf
code generation): generic handlers on the server, raw method stubs on the
client.

  grpc-echo.py server PORT NOTSERVING_FILE [CERT KEY]
      (over TLS with CERT and KEY, ALPN h2, when given)
      /test.Echo/Unary         answers b"echo:" + request, trailing metadata x-trail: yes
                               (Unary and ServerStream send the initial metadata
                               x-served-by: PORT: which server answered)
      /test.Echo/Fail          aborts NOT_FOUND "no such thing"
      /test.Echo/Down          aborts UNAVAILABLE "member says no"
      /test.Echo/ServerStream  request b"N": N messages b"part i"
      /test.Echo/ClientStream  answers b"got K messages, B bytes"
      /test.Echo/Bidi          echoes each message upper-cased
      /test.Echo/Slow          answers b"late" after 3 s
      /grpc.health.v1.Health/Check  SERVING (08 01), NOT_SERVING (08 02)
                               while NOTSERVING_FILE exists
  grpc-echo.py client HOST:PORT [CA_FILE NAME]
      runs every call, one result line each (over TLS with CA_FILE, for
      the server name NAME, when given)
  grpc-echo.py who HOST:PORT PATH...
      one call per PATH (Unary or ServerStream): "PATH PORT" (the
      x-served-by of the server that answered)
  grpc-echo.py codes HOST:PORT PATH...
      one unary call per PATH (b"x", 10 s deadline): "PATH CODE details"
      (89-l7-h2-grpc-answers.sh: tandemd's own answers)
"""
import os
import sys
import time
from concurrent import futures

import grpc


def server(port, notserving, cert=None, key=None):
    me = (("x-served-by", str(port)),)

    def unary(req, ctx):
        ctx.send_initial_metadata(me)
        ctx.set_trailing_metadata((("x-trail", "yes"),))
        return b"echo:" + req

    def fail(req, ctx):
        ctx.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

    def down(req, ctx):
        ctx.abort(grpc.StatusCode.UNAVAILABLE, "member says no")

    def sstream(req, ctx):
        ctx.send_initial_metadata(me)
        for i in range(int(req or b"3")):
            yield b"part %d" % i

    def cstream(it, ctx):
        n = b = 0
        for m in it:
            n += 1
            b += len(m)
        return b"got %d messages, %d bytes" % (n, b)

    def bidi(it, ctx):
        for m in it:
            yield m.upper()

    def slow(req, ctx):
        time.sleep(3)
        return b"late"

    def health(req, ctx):
        return b"\x08\x02" if os.path.exists(notserving) else b"\x08\x01"

    h = grpc.method_handlers_generic_handler("test.Echo", {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Down": grpc.unary_unary_rpc_method_handler(down),
        "ServerStream": grpc.unary_stream_rpc_method_handler(sstream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(cstream),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
    })
    hh = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(health),
    })
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    s.add_generic_rpc_handlers((h, hh))
    if cert:
        creds = grpc.ssl_server_credentials(((open(key, "rb").read(), open(cert, "rb").read()),))
        s.add_secure_port("127.0.0.1:%d" % port, creds)
    else:
        s.add_insecure_port("127.0.0.1:%d" % port)
    s.start()
    s.wait_for_termination()


def client(target, ca=None, name=None):
    if ca:
        creds = grpc.ssl_channel_credentials(root_certificates=open(ca, "rb").read())
        ch = grpc.secure_channel(target, creds, options=(("grpc.ssl_target_name_override", name),))
    else:
        ch = grpc.insecure_channel(target)
    grpc.channel_ready_future(ch).result(timeout=10)

    def code(fn):
        try:
            fn()
            return "OK"
        except grpc.RpcError as e:
            return "%s %s" % (e.code().name, e.details())

    r, call = ch.unary_unary("/test.Echo/Unary").with_call(b"hello", timeout=10)
    print("unary", r.decode(), dict(call.trailing_metadata()).get("x-trail"), call.code().name)
    big = os.urandom(300000)
    r = ch.unary_unary("/test.Echo/Unary")(big, timeout=10)
    print("unary-300k", "intact" if r == b"echo:" + big else "corrupt %d" % len(r))
    print("fail", code(lambda: ch.unary_unary("/test.Echo/Fail")(b"x", timeout=10)))
    print("down", code(lambda: ch.unary_unary("/test.Echo/Down")(b"x", timeout=10)))
    print("unknown", code(lambda: ch.unary_unary("/test.Nope/X")(b"x", timeout=10)))
    parts = list(ch.unary_stream("/test.Echo/ServerStream")(b"50", timeout=10))
    print("server-stream", len(parts), parts[0].decode(), parts[-1].decode())
    r = ch.stream_unary("/test.Echo/ClientStream")(iter([b"a" * 1000] * 100), timeout=10)
    print("client-stream", r.decode())

    def slow():
        for w in (b"one", b"two", b"three"):
            time.sleep(0.05)
            yield w
    print("bidi", " ".join(m.decode() for m in ch.stream_stream("/test.Echo/Bidi")(slow(), timeout=10)))


def who(target, paths):
    ch = grpc.insecure_channel(target)
    grpc.channel_ready_future(ch).result(timeout=10)
    for p in paths:
        if p.endswith("Stream"):
            call = ch.unary_stream(p)(b"1", timeout=10)
            list(call)
        else:
            _, call = ch.unary_unary(p).with_call(b"x", timeout=10)
        print(p, dict(call.initial_metadata()).get("x-served-by"))


def codes(target, paths):
    ch = grpc.insecure_channel(target)
    grpc.channel_ready_future(ch).result(timeout=10)
    for p in paths:
        try:
            ch.unary_unary(p)(b"x", timeout=10)
            print(p, "OK")
        except grpc.RpcError as e:
            print(p, e.code().name, e.details())


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), *sys.argv[3:6])
    elif sys.argv[1] == "codes":
        codes(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "who":
        who(sys.argv[2], sys.argv[3:])
    else:
        client(*sys.argv[2:5])
