#!/usr/bin/env python3
"""peer.py -- a TLS peer written with Python's ssl module, for the TLS tests

  peer.py server CERT KEY [--cafile CA] [--require] [--end notify|cut]
          [--alpn P,P] [--silent]
      Listens on 127.0.0.1 (a port of the kernel's, printed as "PORT n"),
      takes one connection, and answers each line with the same line in
      capitals until "bye": then ends its side with close_notify (notify,
      the default) or by closing the socket without it (cut).  --require
      asks for a client certificate checked against CA; --silent shakes
      hands and then sends nothing, until the peer closes.
  peer.py client PORT CAFILE [--cert C --key K] [--servername NAME]
      Connects, verifying the server against CAFILE and NAME (default
      localhost), sends "hello from python", prints the line it gets back,
      and ends with close_notify.  Exits 1, printing the error, on failure.
Every wait is bounded (10 s).
"""
import argparse
import socket
import ssl
import sys


def server(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.cafile:
        ctx.load_verify_locations(a.cafile)
        ctx.verify_mode = ssl.CERT_REQUIRED if a.require else ssl.CERT_OPTIONAL
    if a.alpn:
        ctx.set_alpn_protocols(a.alpn.split(","))
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(10)
    print("PORT", ls.getsockname()[1], flush=True)
    raw, _ = ls.accept()
    raw.settimeout(10)
    try:
        s = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as e:
        print("handshake failed:", e, flush=True)
        return 0
    if a.silent:
        try:
            s.recv(1)
        except (ssl.SSLError, OSError):
            pass
        s.close()
        return 0
    buf = b""
    while True:
        try:
            data = s.recv(4096)
        except (ssl.SSLError, OSError) as e:
            print("recv failed:", e, flush=True)
            return 0
        if not data:
            break
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            s.sendall(line.upper() + b"\n")
            if line == b"bye":
                if a.end == "cut":
                    s.close()  # SSL_free without SSL_shutdown: no close_notify
                else:
                    s.unwrap().close()
                return 0
    s.close()
    return 0


def client(a):
    ctx = ssl.create_default_context(cafile=a.cafile)
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    try:
        with socket.create_connection(("127.0.0.1", int(a.port)), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=a.servername) as s:
                s.sendall(b"hello from python\n")
                buf = b""
                while not buf.endswith(b"\n"):
                    d = s.recv(4096)
                    if not d:
                        break
                    buf += d
                print(buf.decode().strip(), flush=True)
                s.unwrap()
    except (ssl.SSLError, OSError) as e:
        print("error:", e, flush=True)
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("cert")
    s.add_argument("key")
    s.add_argument("--cafile")
    s.add_argument("--require", action="store_true")
    s.add_argument("--end", default="notify", choices=["notify", "cut"])
    s.add_argument("--alpn")
    s.add_argument("--silent", action="store_true")
    c = sub.add_parser("client")
    c.add_argument("port")
    c.add_argument("cafile")
    c.add_argument("--cert")
    c.add_argument("--key")
    c.add_argument("--servername", default="localhost")
    a = ap.parse_args()
    return server(a) if a.cmd == "server" else client(a)


if __name__ == "__main__":
    sys.exit(main())
