#!/usr/bin/env python3
# socketserver_ref.py -- reference: Python socketserver echo and time servers
#
# usage: socketserver_ref.py echo|time PORT
#
# ThreadingTCPServer, a thread per connection, as the seeds and Python's
# documentation write them.  echo sends back what it reads until the
# client closes; time sends the 4-byte RFC 868 time and closes.
import resource
import socket
import socketserver
import struct
import sys
import time

RFC868_OFFSET = 2208988800


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = sock.recv(65536)
            if not data:
                return
            sock.sendall(data)


class Time(socketserver.BaseRequestHandler):
    def handle(self):
        now = (int(time.time()) + RFC868_OFFSET) & 0xFFFFFFFF
        self.request.sendall(struct.pack("!I", now))


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 4096


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    handler = {"echo": Echo, "time": Time}[sys.argv[1]]
    with Server(("127.0.0.1", int(sys.argv[2])), handler) as server:
        server.serve_forever()
