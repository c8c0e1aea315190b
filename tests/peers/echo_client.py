# echo_client.py -- seed 004 ("Network Programming - Server & Client A:
# Basics"), "Echo Server" (the client), ported to Python 3.
# Usage: echo_client.py [HOST [PORT]]

# echo_client.py
import socket, sys

host = sys.argv[1] if sys.argv[1:] else socket.gethostname()
port = int(sys.argv[2]) if sys.argv[2:] else 12345  # The same port as used by the server
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((host, port))
s.sendall(b'Hello, world')
data = s.recv(1024)
s.close()
print('Received', repr(data), flush=True)
