# ref_echo_server.py -- seed 002 (Python library reference, "Built-in
# Module socket"), section "Example": the echo server, ported to Python 3
# (bind takes one (host, port) tuple).
# Usage: ref_echo_server.py [HOST [PORT]]

# Echo server program
from socket import *
import sys
HOST = sys.argv[1] if sys.argv[1:] else ''  # Symbolic name meaning the local host
PORT = int(sys.argv[2]) if sys.argv[2:] else 50007  # Arbitrary non-privileged server
s = socket(AF_INET, SOCK_STREAM)
s.bind((HOST, PORT))
s.listen(1)
conn, addr = s.accept()
print('Connected by', addr, flush=True)
while 1:
    data = conn.recv(1024)
    if not data: break
    conn.send(data)
conn.close()
