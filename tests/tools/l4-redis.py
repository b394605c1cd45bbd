#!/usr/bin/env python3
"""l4-redis.py ADDR PORT SICKFILE: answers "PING" with "+PONG" like Redis,
or with "-ERR sick" while SICKFILE exists (a server that accepts
connections but is not healthy: only a send/expect check sees it)."""
import os
import socket
import sys
import threading


def serve(c):
    with c:
        while True:
            d = c.recv(1024)
            if not d:
                return
            if b"PING" in d:
                c.sendall(b"-ERR sick\r\n" if os.path.exists(sys.argv[3]) else b"+PONG\r\n")


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(64)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
