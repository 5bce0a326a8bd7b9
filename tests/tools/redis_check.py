#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""redis_check - store random values in a redis server and read them back,
over nonblocking sockets (as an event-loop client does), comparing the
SHA-256 of what was stored with what came back.

  redis_check.py PORT N SIZE
      N connections one after the other; on each SET k<i> to SIZE random
      bytes, GET it back, close.  Prints
      "connections N bytes B mismatches M"; exit 0 when M is 0.
"""
import hashlib
import os
import select
import socket
import sys


class Conn:
    def __init__(self, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setblocking(False)
        try:
            self.s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        select.select([], [self.s], [], 10)
        err = self.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, os.strerror(err))
        self.buf = bytearray()

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        view = memoryview(out)
        while view:
            select.select([], [self.s], [], 10)
            try:
                view = view[self.s.send(view):]
            except BlockingIOError:
                pass

    def fill(self):
        select.select([self.s], [], [], 10)
        try:
            b = self.s.recv(1 << 20)
        except BlockingIOError:
            return
        if not b:
            raise EOFError("redis closed the connection")
        self.buf += b

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\r\n")
        out = bytes(self.buf[:i])
        del self.buf[:i + 2]
        return out

    def reply(self):
        head = self.line()
        if head[:1] != b"$":
            return head
        n = int(head[1:])
        while len(self.buf) < n + 2:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n + 2]
        return out


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    port, n, size = (int(a) for a in argv)
    mismatches = total = 0
    for i in range(n):
        value = os.urandom(size)
        c = Conn(port)
        c.send(b"SET", b"k%d" % i, value)
        if c.reply() != b"+OK":
            mismatches += 1
        c.send(b"GET", b"k%d" % i)
        if hashlib.sha256(c.reply()).digest() != hashlib.sha256(value).digest():
            mismatches += 1
        c.s.close()
        total += size
    print("connections %d bytes %d mismatches %d" % (n, total, mismatches))
    return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
