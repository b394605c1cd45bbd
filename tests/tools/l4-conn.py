#!/usr/bin/env python3
"""l4-conn.py SRC DST PORT N TIMEOUT [hold]: opens N TCP connections from SRC
to DST:PORT, one after the other, each with a connect timeout; prints how
many connected. With "hold" the connections stay open until all N were
tried (for concurrency limits); otherwise each is closed at once."""
import socket
import sys

src, dst, port, n, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
hold = len(sys.argv) > 6 and sys.argv[6] == "hold"
ok, keep = 0, []
for _ in range(n):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src, 0))
    try:
        s.connect((dst, port))
        ok += 1
        if hold:
            keep.append(s)
            continue
    except OSError:
        pass
    s.close()
print(ok)
