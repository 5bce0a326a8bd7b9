#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""busy_reader - a one-way stream to a reader that holds its socket, for
the bypass's cross-CPU demotion test.

The bypass's redirect takes the receiving socket's lock, which the reader
holds while recvmsg() copies; a reader on another CPU that keeps its
socket busy is what makes a one-way stream of mid-size sends lose there
(docs/bypass.md "Across CPUs").  This server holds it on purpose, so that
the test does not depend on how busy the machine is: besides the thread
that reads (and hashes) the stream, a second thread peeks at up to 1 MiB
of it in a loop (MSG_PEEK copies under the lock too), and the reader
pauses between its reads so that plenty stays queued to be peeked at.

Protocol: the client sends an 8-byte big-endian length L, then L
pseudo-random bytes in SIZE-byte send()s (each begins with its number); the server answers with the
SHA-256 (32 bytes) of what it read and closes.  The client compares it
with its own.  Both ends use nonblocking sockets (select), as an
event-driven server does.

  busy_reader.py server PORT     serve one connection; prints "listening"
  busy_reader.py client PORT L SIZE
      prints "bytes B sends N match M"; exit 0 when the hashes match.
"""
import hashlib
import os
import select
import socket
import struct
import sys
import threading
import time


def recv_some(s, n, flags=0):
    try:
        return s.recv(n, flags)
    except BlockingIOError:
        return None


def send_all(s, data):
    while data:
        select.select([], [s], [])
        try:
            data = data[s.send(data):]
        except BlockingIOError:
            pass


def serve(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    print("listening", flush=True)
    c, _ = ls.accept()
    c.setblocking(False)
    done = threading.Event()

    def peek():
        while not done.is_set():
            select.select([c], [], [], 0.05)
            recv_some(c, 1 << 20, socket.MSG_PEEK)

    t = threading.Thread(target=peek, daemon=True)
    t.start()
    head = b""
    while len(head) < 8:
        select.select([c], [], [])
        b = recv_some(c, 8 - len(head))
        if b == b"":
            sys.exit("busy_reader: EOF before the length")
        head += b or b""
    left = struct.unpack(">Q", head)[0]
    h = hashlib.sha256()
    while left:
        select.select([c], [], [])
        b = recv_some(c, min(left, 4096))
        if b == b"":
            sys.exit("busy_reader: EOF with %d bytes to come" % left)
        if b:
            h.update(b)
            left -= len(b)
            time.sleep(0.0005)
    done.set()
    t.join()
    send_all(c, h.digest())
    c.close()


def client(port, total, size):
    # nonblocking from connect() on: on kernels whose sockmap fails
    # blocking readers only nonblocking clients take part
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    select.select([], [s], [])
    h = hashlib.sha256()
    chunk = os.urandom(size)
    out = struct.pack(">Q", total)
    sends = 0
    sent = -len(out)
    pos = 0
    while sent < total:
        if pos == len(out):
            # every send differs (its number first): a reordered one shows
            n = min(size, total - max(sent, 0))
            out = (struct.pack(">Q", sends) + chunk)[:n]
            h.update(out)
            pos = 0
        select.select([], [s], [])
        try:
            k = s.send(out[pos:])
        except BlockingIOError:
            continue
        pos += k
        sent += k
        sends += 1
    digest = b""
    while len(digest) < 32:
        select.select([s], [], [])
        b = recv_some(s, 32 - len(digest))
        if b == b"":
            break
        digest += b or b""
    ok = digest == h.digest()
    print("bytes %d sends %d match %d" % (total, sends, ok))
    return 0 if ok else 1


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "server":
        serve(int(sys.argv[2]))
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "client":
        return client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
