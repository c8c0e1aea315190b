# socket-example-1.py -- seed 000 ("The socket module"), "Using the socket
# module to implement a time client", ported to Python 3.
# Usage: socket-example-1.py [HOST [PORT]]

import socket
import struct, sys, time

# server
HOST = sys.argv[1] if sys.argv[1:] else "www.python.org"
PORT = int(sys.argv[2]) if sys.argv[2:] else 37

# reference time (in seconds since 1900-01-01 00:00:00)
TIME1970 = 2208988800 # 1970-01-01 00:00:00

# connect to server
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((HOST, PORT))

# read 4 bytes, and convert to time value
t = s.recv(4)
t = struct.unpack("!I", t)[0]
t = int(t - TIME1970)

s.close()

# print results
print("server time is", time.ctime(t), flush=True)
print("local clock is", int(time.time()) - t, "seconds off", flush=True)
