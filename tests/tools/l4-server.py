#!/usr/bin/env python3
"""l4-server.py ADDR PORT...: accepts TCP connections on each port and keeps
them open until the peer closes (so connection counts stay up)."""
import selectors
import socket
import sys

sel = selectors.DefaultSelector()
for p in sys.argv[2:]:
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((sys.argv[1], int(p)))
    ls.listen(512)
    sel.register(ls, selectors.EVENT_READ, "listen")
while True:
    for key, _ in sel.select():
        if key.data == "listen":
            c, _ = key.fileobj.accept()
            sel.register(c, selectors.EVENT_READ, "conn")
        else:
            try:
                d = key.fileobj.recv(4096)
            except OSError:
                d = b""
            if not d:
                sel.unregister(key.fileobj)
                key.fileobj.close()
