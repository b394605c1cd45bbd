"""ctlsock - tandemd's control socket for the integration tests' Python
clients (lib.sh puts this folder on PYTHONPATH): one JSON request a line,
one JSON answer a line."""
import json
import socket


def call(sock, cmd):
    """The answer to {"cmd": cmd} on the control socket at path sock."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(b'{"cmd":"%s"}\n' % cmd.encode())
    d = b""
    while not d.endswith(b"\n"):
        r = s.recv(65536)
        if not r:
            break  # closed early: json.loads below says so
        d += r
    s.close()
    return json.loads(d)


def l7_stats(sock):
    """The "l7" object of the stats answer (io_buffers, connections_active, ...)."""
    return call(sock, "stats")["l7"]
