#!/usr/bin/env python3
# reflection.py -- spoofed UDP datagrams and a counting victim, for reflection_test.sh
"""  reflection.py spoof SRC DST HEX [COUNT] [GAP_MS]
      sends COUNT (1) IPv4 UDP datagrams carrying bytes.fromhex(HEX) from
      SRC (a.b.c.d:port, any address: a raw socket) to DST, GAP_MS (0)
      apart.  Needs CAP_NET_RAW; run it only inside a test's namespace.
  reflection.py sink ADDR SECONDS
      binds a UDP socket to ADDR, counts what arrives until SIGTERM or
      for SECONDS at most, and prints "datagrams N bytes B largest L"
      (B: payload bytes).
  reflection.py verified TCP-ADDR UDP-ADDR COUNT tcp|none
      sends COUNT 1-byte requests to UDP-ADDR one after the other (each
      waits 1 s for its reply), holding a TCP connection to TCP-ADDR
      meanwhile with "tcp"; prints "replies N largest L".

Exit status 0, 1 on failure, 77 when raw sockets are refused.
"""

import signal
import socket
import struct
import sys
import time


def parse(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def udp_packet(src, dst, payload):
    """An IPv4 header and a UDP header (checksum 0: none, RFC 768) before
    payload.  The kernel fills the IP checksum and id (raw(7))."""
    udp_len = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64,
                     socket.IPPROTO_UDP, 0, socket.inet_aton(src[0]),
                     socket.inet_aton(dst[0]))
    udp = struct.pack("!HHHH", src[1], dst[1], udp_len, 0)
    return ip + udp + payload


def spoof(src, dst, payload, count, gap_ms):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                          socket.IPPROTO_RAW)
    except PermissionError as e:
        print("raw socket refused: %s" % e, file=sys.stderr)
        return 77
    packet = udp_packet(parse(src), parse(dst), payload)
    for i in range(count):
        s.sendto(packet, (parse(dst)[0], 0))
        if gap_ms and i + 1 < count:
            time.sleep(gap_ms / 1000.0)
    s.close()
    return 0


stopping = False


def stop(signo, frame):
    global stopping
    stopping = True


def sink(addr, seconds):
    signal.signal(signal.SIGTERM, stop)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(parse(addr))
    s.settimeout(0.05)
    end = time.monotonic() + seconds
    n = total = largest = 0
    while not stopping and time.monotonic() < end:
        try:
            data = s.recv(65536)
        except (socket.timeout, InterruptedError):
            continue
        n += 1
        total += len(data)
        largest = max(largest, len(data))
    print("datagrams %d bytes %d largest %d" % (n, total, largest))
    return 0


def verified(tcp_addr, udp_addr, count, tcp):
    """count 1-byte requests to udp_addr, holding a TCP connection to
    tcp_addr (an echo service) meanwhile when tcp is true."""
    conn = None
    if tcp:
        conn = socket.create_connection(parse(tcp_addr), timeout=5)
        # The echo of a byte: the server has accepted the connection
        # (the handshake alone does not say so), so it knows the host.
        conn.sendall(b"x")
        conn.recv(1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(parse(udp_addr))
    s.settimeout(1)
    n = largest = 0
    for i in range(count):
        # chargen's length is a hash of the clock's millisecond and the
        # sender: requests in one millisecond get one length, and five
        # of them once all got 23 bytes (under ASan).  Apart, they get
        # five lengths, and all five at most 30 of 512 is ~1e-6 likely.
        if i:
            time.sleep(0.02)
        s.send(b"x")
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        n += 1
        largest = max(largest, len(data))
    print("replies %d largest %d" % (n, largest))
    if conn:
        conn.close()
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "spoof":
        count = int(argv[5]) if len(argv) > 5 else 1
        gap = int(argv[6]) if len(argv) > 6 else 0
        return spoof(argv[2], argv[3], bytes.fromhex(argv[4]), count, gap)
    if len(argv) == 4 and argv[1] == "sink":
        return sink(argv[2], float(argv[3]))
    if len(argv) == 6 and argv[1] == "verified":
        return verified(argv[2], argv[3], int(argv[4]), argv[5] == "tcp")
    print(__doc__, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
