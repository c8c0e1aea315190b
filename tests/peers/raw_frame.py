#!/usr/bin/env python3
# raw_frame.py -- seed 003 ("Sockets"), "Raw Sockets on Linux", ported to
# Python 3 (the frame is bytes).  Needs root (CAP_NET_RAW).
# Usage: raw_frame.py [INTERFACE]

from socket import socket, AF_PACKET, SOCK_RAW
import sys
s = socket(AF_PACKET, SOCK_RAW)
s.bind((sys.argv[1] if sys.argv[1:] else "eth1", 0))

# We're putting together an ethernet frame here,
# but you could have anything you want instead
# Have a look at the 'struct' module for more
# flexible packing/unpacking of binary data
# and 'binascii' for 32 bit CRC
src_addr = b"\x01\x02\x03\x04\x05\x06"
dst_addr = b"\x01\x02\x03\x04\x05\x06"
payload = (b"["*30)+b"PAYLOAD"+(b"]"*30)
checksum = b"\x1a\x2b\x3c\x4d"
ethertype = b"\x08\x01"

s.send(dst_addr+src_addr+ethertype+payload+checksum)
