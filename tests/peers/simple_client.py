# simple_client.py -- seed 001 ("Socket Programming in Python"), "A Simple
# Client" (client.py), ported to Python 3.
# Usage: simple_client.py [HOST [PORT]]

# Echo client program
import socket, sys
host = sys.argv[1] if sys.argv[1:] else socket.gethostname()
port = int(sys.argv[2]) if sys.argv[2:] else 12345
s = socket.socket()
s.connect((host, port))
s.sendall(b'Welcome User!')
data = s.recv(1024)
s.close()
print(repr(data), flush=True)
