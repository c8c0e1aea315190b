# udp_receive.py -- seed 003 ("Sockets"), "Receiving data via UDP": the
# server using solely the socket module, in Python 3 as written.
# Usage: udp_receive.py [HOST [PORT [COUNT]]]  (COUNT: messages to receive
# before exiting; forever without it)

from socket import socket, AF_INET, SOCK_DGRAM
import sys
HOST = sys.argv[1] if sys.argv[1:] else 'localhost'
PORT = int(sys.argv[2]) if sys.argv[2:] else 6667
COUNT = int(sys.argv[3]) if sys.argv[3:] else None
sock = socket(AF_INET, SOCK_DGRAM)
sock.bind((HOST, PORT))

received = 0
while COUNT is None or received < COUNT:
    msg, addr = sock.recvfrom(8192) # This is the amount of bytes to read at maximum
    print("Got message from %s: %s" % (addr, msg), flush=True)
    received += 1
