# simple_server.py -- seed 001 ("Socket Programming in Python"), "A Simple
# Server" (server.py), ported to Python 3: its echo loop's indentation is
# repaired, the rest is as written.
# Usage: simple_server.py [HOST [PORT]]

# Echo server program
import socket, sys
host = sys.argv[1] if sys.argv[1:] else socket.gethostname()
port = int(sys.argv[2]) if sys.argv[2:] else 12345
s = socket.socket()
s.bind((host, port))
s.listen(5)
conn, addr = s.accept()
print('Got connection from ', addr[0], '(', addr[1], ')', flush=True)
print('Thank you for connecting', flush=True)
while True:
    data = conn.recv(1024)
    if not data: break
    conn.sendall(data)
conn.close()
