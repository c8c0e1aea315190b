# daytime_server.py -- seed 004 ("Network Programming - Server & Client A:
# Basics"), "Simple Socket" (server.py: the time string server), in
# Python 3 as written.
# Usage: daytime_server.py [HOST [PORT [COUNT]]]  (COUNT: connections to
# serve before exiting; forever without it)

# server.py
import socket
import sys
import time

# create a socket object
serversocket = socket.socket(
    socket.AF_INET, socket.SOCK_STREAM)

# get local machine name
host = sys.argv[1] if sys.argv[1:] else socket.gethostname()

port = int(sys.argv[2]) if sys.argv[2:] else 9999
count = int(sys.argv[3]) if sys.argv[3:] else None

# bind to the port
serversocket.bind((host, port))

# queue up to 5 requests
serversocket.listen(5)

served = 0
while count is None or served < count:
    # establish a connection
    clientsocket, addr = serversocket.accept()

    print("Got a connection from %s" % str(addr), flush=True)
    currentTime = time.ctime(time.time()) + "\r\n"
    clientsocket.send(currentTime.encode('ascii'))
    clientsocket.close()
    served += 1
