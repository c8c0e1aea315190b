# udp_send.py -- seed 003 ("Sockets"), "Sending data via UDP", in Python 3
# as written.
# Usage: udp_send.py [HOST [PORT]]

from socket import socket, AF_INET, SOCK_DGRAM
import sys
HOST = sys.argv[1] if sys.argv[1:] else 'localhost'
PORT = int(sys.argv[2]) if sys.argv[2:] else 6667
s = socket(AF_INET, SOCK_DGRAM)
msg = ("Hello you there!").encode('utf-8') # socket.sendto() takes bytes as input, hence we must
s.sendto(msg, (HOST, PORT))
