#!/usr/bin/env python3
"""records.py -- TLS 1.3 clients of a chat room, one of which writes records by hand

  records.py PORT CAFILE

Three clients of a chat service served over TLS (sock serve chat
--tls-cert) on 127.0.0.1:PORT: a watcher, a speaker, and a client whose
records are made here from its own traffic secret (Python's ssl writes the
key log; the record protection of RFC 8446 section 5.2 is redone with the
cryptography package).  That client sends the first four bytes of a
KeyUpdate message (its header; the body never comes), so its session at
the server waits in the middle of a handshake message.  Then the speaker
sends three lines, two of them in one TCP segment: the server, relaying
each line to every member, writes to the waiting session while the
speaker's records are being read.  Every line must reach the watcher, and
the speaker must stay connected.  Prints "ok", or what went wrong, and
exits 0 or 1.  Every wait is bounded.
"""
import os
import socket
import ssl
import sys
import tempfile
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

PORT, CAFILE = int(sys.argv[1]), sys.argv[2]


class Client:
    """A TLS client on memory BIOs over a blocking socket."""

    def __init__(self, keylog=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(CAFILE)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        if keylog:
            ctx.keylog_filename = keylog
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        self.inb, self.outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inb, self.outb, server_hostname="localhost")
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                data = self.sock.recv(65536)
                if not data:
                    raise SystemExit("closed during the handshake")
                self.inb.write(data)
        self.flush()

    def flush(self):
        data = self.outb.read()
        if data:
            self.sock.sendall(data)

    def records(self, lines):
        """The records of lines, one each, as bytes (not sent)."""
        for line in lines:
            self.tls.write(line)
        return self.outb.read()

    def read_for(self, seconds):
        """Plaintext received within seconds; b"<end>" if it ended."""
        out, end = b"", time.monotonic() + seconds
        self.sock.settimeout(0.1)
        while time.monotonic() < end:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return out + b"<end>"
            if not data:
                return out + b"<end>"
            self.inb.write(data)
            while True:
                try:
                    out += self.tls.read(65536)
                except ssl.SSLWantReadError:
                    break
                except ssl.SSLError:
                    return out + b"<end>"
        return out


def label(secret, name, length, h):
    full = b"tls13 " + name
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    return HKDFExpand(algorithm=h, length=length, info=info).derive(secret)


class HandMade(Client):
    """A client whose next records are protected here, not by OpenSSL."""

    def __init__(self):
        fd, keylog = tempfile.mkstemp()
        os.close(fd)
        try:
            super().__init__(keylog)
            secret = None
            with open(keylog) as f:
                for line in f:
                    w = line.split()
                    if w and w[0] == "CLIENT_TRAFFIC_SECRET_0":
                        secret = bytes.fromhex(w[2])
        finally:
            os.unlink(keylog)
        suite = self.tls.cipher()[0]
        h = hashes.SHA384() if "SHA384" in suite else hashes.SHA256()
        klen = 16 if "AES_128" in suite else 32
        key = label(secret, b"key", klen, h)
        self.iv = label(secret, b"iv", 12, h)
        self.aead = ChaCha20Poly1305(key) if "CHACHA" in suite else AESGCM(key)
        self.seq = 0

    def record(self, content_type, payload):
        inner = payload + bytes([content_type])
        header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
        nonce = bytes(a ^ b for a, b in zip(self.iv, self.seq.to_bytes(12, "big")))
        self.seq += 1
        return header + self.aead.encrypt(nonce, inner, header)


watcher, speaker = Client(), Client()
waiting = HandMade()
watcher.read_for(0.3)
speaker.read_for(0.3)
# A handshake record (type 22) holding KeyUpdate's header: type 24,
# length 1; its one byte of body never follows.
waiting.sock.sendall(waiting.record(22, b"\x18\x00\x00\x01"))
time.sleep(0.3)
speaker.sock.sendall(speaker.records([b"line1\n", b"line2\n"]))
seen = watcher.read_for(1.0)
speaker.sock.sendall(speaker.records([b"line3\n"]))
seen += watcher.read_for(1.0)
heard = speaker.read_for(0.5)
lost = [x for x in (b"line1", b"line2", b"line3") if x not in seen]
if lost or b"<end>" in heard:
    print("lost %s; the watcher saw %r; the speaker saw %r" % (lost, seen, heard))
    sys.exit(1)
print("ok")
