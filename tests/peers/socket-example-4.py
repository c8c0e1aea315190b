# socket-example-4.py -- seed 000 ("The socket module"), "Using the socket
# module to implement a datagram time client", ported to Python 3.
# Usage: socket-example-4.py [HOST [PORT]]

import socket
import struct, sys, time

# server
HOST = sys.argv[1] if sys.argv[1:] else "localhost"
PORT = int(sys.argv[2]) if sys.argv[2:] else 8037

# reference time (in seconds since 1900-01-01 00:00:00)
TIME1970 = 2208988800 # 1970-01-01 00:00:00

# connect to server
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

# send empty packet
s.sendto(b"", (HOST, PORT))

# read 4 bytes from server, and convert to time value
t, server = s.recvfrom(4)
t = struct.unpack("!I", t)[0]
t = int(t - TIME1970)

s.close()

print("server time is", time.ctime(t), flush=True)
print("local clock is", int(time.time()) - t, "seconds off", flush=True)
