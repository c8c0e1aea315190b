# ref_echo_client.py -- seed 002 (Python library reference, "Built-in
# Module socket"), section "Example": the echo client, ported to Python 3
# (connect takes one (host, port) tuple, the data is bytes).
# Usage: ref_echo_client.py [HOST [PORT]]

# Echo client program
from socket import *
import sys
HOST = sys.argv[1] if sys.argv[1:] else 'daring.cwi.nl'  # The remote host
PORT = int(sys.argv[2]) if sys.argv[2:] else 50007  # The same port as used by the server
s = socket(AF_INET, SOCK_STREAM)
s.connect((HOST, PORT))
s.send(b'Hello, world')
data = s.recv(1024)
s.close()
print('Received', repr(data), flush=True)
