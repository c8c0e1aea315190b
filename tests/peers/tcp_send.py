# tcp_send.py -- seed 003 ("Sockets"), "Sending data via TCP", in Python 3
# as written.
# Usage: tcp_send.py [HOST [PORT]]

from socket import socket, AF_INET, SOCK_STREAM
import sys
HOST = sys.argv[1] if sys.argv[1:] else 'localhost'
PORT = int(sys.argv[2]) if sys.argv[2:] else 6667
s = socket(AF_INET, SOCK_STREAM)
s.connect((HOST, PORT)) # The address of the TCP server listening
s.send(b'Hello')
s.close()
