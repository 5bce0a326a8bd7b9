#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""learn_peer - servers that read in a known way, and a checking client,
for the bypass learning tests.

Protocol: the client sends an 8-byte big-endian length L, then L
pseudo-random bytes; the server answers with the SHA-256 (32 bytes) of
what it read and closes.  The client compares it with its own.

  learn_peer.py server PORT MODE [MODE2 AFTER]
      MODE: nonblocking (recv on an O_NONBLOCK socket, select),
            blocking    (recv on a blocking socket, a thread per connection),
            splice      (nonblocking; the length by recv, the rest by
                         splice(2) into a pipe)
      With MODE2 AFTER: connections after the first AFTER use MODE2 (one
      listener throughout: the same server turning into another one).
      Prints "listening" on stdout once it listens; serves until killed.
  learn_peer.py client PORT N [SIZE]
      N connections one after the other, nonblocking sockets (select),
      SIZE bytes each (default 65536, random content).  Prints
      "connections N bytes B mismatches M"; exit 0 when M is 0.
"""
import hashlib
import os
import select
import socket
import struct
import sys
import threading


def recv_exact(s, n, nonblocking):
    out = bytearray()
    while len(out) < n:
        if nonblocking:
            select.select([s], [], [], 10)
        try:
            b = s.recv(n - len(out))
        except BlockingIOError:
            continue
        if not b:
            raise EOFError("peer closed after %d of %d bytes" % (len(out), n))
        out += b
    return bytes(out)


def send_all(s, data, nonblocking):
    view = memoryview(data)
    while view:
        if nonblocking:
            select.select([], [s], [], 10)
        try:
            n = s.send(view)
        except BlockingIOError:
            continue
        view = view[n:]


def serve_one(c, mode):
    nb = mode != "blocking"
    c.setblocking(not nb)
    try:
        (length,) = struct.unpack(">Q", recv_exact(c, 8, nb))
        h = hashlib.sha256()
        if mode == "splice":
            r, w = os.pipe()
            left = length
            while left:
                select.select([c], [], [], 10)
                try:
                    n = os.splice(c.fileno(), w, min(left, 65536), flags=os.SPLICE_F_NONBLOCK)
                except BlockingIOError:
                    continue
                if n == 0:
                    raise EOFError("peer closed")
                h.update(os.read(r, n))
                left -= n
            os.close(r)
            os.close(w)
        else:
            h.update(recv_exact(c, length, nb))
        send_all(c, h.digest(), nb)
    except (OSError, EOFError) as e:
        print("learn_peer server: %s" % e, file=sys.stderr)
    finally:
        c.close()


def server(port, mode, mode2=None, after=0):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    print("listening", flush=True)
    n = 0
    while True:
        c, _ = ls.accept()
        n += 1
        m = mode2 if mode2 and n > after else mode
        if m == "blocking":
            threading.Thread(target=serve_one, args=(c, m), daemon=True).start()
        else:
            serve_one(c, m)


def client(port, n, size):
    total = mismatches = 0
    for _ in range(n):
        data = os.urandom(size)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        select.select([], [s], [], 10)
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, os.strerror(err))
        send_all(s, struct.pack(">Q", size) + data, True)
        digest = recv_exact(s, 32, True)
        s.close()
        total += size
        if digest != hashlib.sha256(data).digest():
            mismatches += 1
    print("connections %d bytes %d mismatches %d" % (n, total, mismatches))
    return 0 if mismatches == 0 else 1


def main(argv):
    if len(argv) >= 3 and argv[0] == "server":
        server(int(argv[1]), argv[2], argv[3] if len(argv) > 3 else None,
               int(argv[4]) if len(argv) > 4 else 0)
        return 0
    if len(argv) >= 3 and argv[0] == "client":
        return client(int(argv[1]), int(argv[2]), int(argv[3]) if len(argv) > 3 else 65536)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
