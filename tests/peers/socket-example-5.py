# socket-example-5.py -- seed 000 ("The socket module"), "Using the socket
# module to implement a datagram time server", ported to Python 3.
# Usage: socket-example-5.py [HOST [PORT [COUNT]]]  (COUNT: datagrams to
# answer before exiting; forever without it)

import socket
import struct, sys, time

HOST = sys.argv[1] if sys.argv[1:] else ""
# user-accessible port
PORT = int(sys.argv[2]) if sys.argv[2:] else 8037
COUNT = int(sys.argv[3]) if sys.argv[3:] else None

# reference time
TIME1970 = 2208988800

# establish server
service = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
service.bind((HOST, PORT))

print("listening on port", PORT, flush=True)

served = 0
while COUNT is None or served < COUNT:
    # serve forever
    data, client = service.recvfrom(0)
    print("connection from", client, flush=True)
    t = int(time.time()) + TIME1970
    t = struct.pack("!I", t)
    service.sendto(t, client) # send timestamp
    served += 1
