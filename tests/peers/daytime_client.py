# daytime_client.py -- seed 004 ("Network Programming - Server & Client A:
# Basics"), "Simple Socket" (client.py: the time string client), in
# Python 3 as written.
# Usage: daytime_client.py [HOST [PORT]]

# client.py
import socket
import sys

# create a socket object
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

# get local machine name
host = sys.argv[1] if sys.argv[1:] else socket.gethostname()

port = int(sys.argv[2]) if sys.argv[2:] else 9999

# connection to hostname on the port.
s.connect((host, port))

# Receive no more than 1024 bytes
tm = s.recv(1024)

s.close()

print("The time got from the server is %s" % tm.decode('ascii'), flush=True)
