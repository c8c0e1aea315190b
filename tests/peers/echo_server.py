# echo_server.py -- seed 004 ("Network Programming - Server & Client A:
# Basics"), "Echo Server", ported to Python 3.
# Usage: echo_server.py [HOST [PORT]]

# echo_server.py
import socket, sys

host = sys.argv[1] if sys.argv[1:] else ''  # Symbolic name meaning all available interfaces
port = int(sys.argv[2]) if sys.argv[2:] else 12345  # Arbitrary non-privileged port
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((host, port))
s.listen(1)
conn, addr = s.accept()
print('Connected by', addr, flush=True)

while True:
    data = conn.recv(1024)
    if not data: break
    conn.sendall(data)
conn.close()
