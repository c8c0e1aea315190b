# client_list.py -- seed 003 ("Sockets"), "Multi-threaded TCP Socket
# Server", ported to Python 3: names are sent and received as UTF-8, the
# JSON as ASCII.  Its flaw is kept: the client reads the list with a single
# recv(1024), so a list longer than that fails to parse.
# Usage: client_list.py [-c] [-n NAME] [HOST [PORT [COUNT]]]  (COUNT:
# connections the server serves before it exits; forever without it)

import argparse
import json
import socket
import threading

def handle_client(client_list, conn, address):
    name = conn.recv(1024).decode()
    entry = dict(zip(['name', 'address', 'port'], [name, address[0], address[1]]))
    client_list[name] = entry
    conn.sendall(json.dumps(client_list).encode())
    conn.shutdown(socket.SHUT_RDWR)
    conn.close()

def server(client_list, host, port, count):
    print("Starting server...", flush=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(5)
    threads = []
    while count is None or len(threads) < count:
        (conn, address) = s.accept()
        t = threading.Thread(target=handle_client, args=(client_list, conn, address))
        t.daemon = True
        t.start()
        if count is not None:
            threads.append(t)
    for t in threads:
        t.join()

def client(name, host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((host, port))
    s.send(name.encode())
    data = s.recv(1024)
    result = json.loads(data)
    print(json.dumps(result, indent=4), flush=True)

def parse_arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument('-c', dest='client', action='store_true')
    parser.add_argument('-n', dest='name', type=str, default='name')
    parser.add_argument('host', nargs='?', default='127.0.0.1')
    parser.add_argument('port', nargs='?', type=int, default=5000)
    parser.add_argument('count', nargs='?', type=int, default=None)
    return parser.parse_args()

if __name__ == '__main__':
    args = parse_arguments()
    if args.client:
        client(args.name, args.host, args.port)
    else:
        server({}, args.host, args.port, args.count)
