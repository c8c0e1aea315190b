#!/usr/bin/env python3
# load.py -- the soak's load on one `sock serve`: every service, well-behaved and hostile clients
#
# usage: load.py --ports JSON --seconds S [--idle-timeout S] [--seed N]
#                [--churn | --only KIND,...]
#
# Runs mixed load against one server for S seconds, then stops every
# client, puts the client list into a known state (256 fixed names, so
# that the server holds the same list at every quiet point) and prints
# its figures as one JSON object on standard output.  With --churn it
# makes short well-behaved connections instead, one at a time, at most
# CHURN_RATE a second (from 127.0.0.9): cheap in CPU, they are most of
# the soak's connections, so that a leak of a few bytes per connection
# adds up to more than the RSS margin.
#
# Well-behaved clients (source 127.0.0.1) check every byte they get:
# echo returns exactly what was sent, discard returns nothing, daytime
# and time parse and fall within the local clock's window around the
# request, chargen follows RFC 864's pattern, the client list is valid
# JSON naming the client with its address and port, and chat greets a
# member, announces joins and leaves, and delivers each member's lines,
# in order and cleaned, to the other members of its group (and never back
# to it).  Any difference is an error.
#
# Hostile clients, each from a loopback source address of its own so that
# every kind stays below the per-source cap of 256 connections: slow
# readers (127.0.0.2), idle floods and sleepers (127.0.0.3-5), resets
# with SO_LINGER 0 (127.0.0.6), garbage over TCP and UDP (127.0.0.7), UDP
# bursts (127.0.0.8).  They check what the server promises them: the
# client list stays valid JSON whatever name it is sent, chat lines are
# cleaned of control characters, chargen's bytes are right even for a
# slow reader, idle connections are not closed before the idle timeout
# and are closed after it.
#
# Every operation has a timeout, every loop ends at the deadline, and
# every socket is closed before the program exits.

import argparse
import asyncio
import json
import random
import re
import socket
import struct
import sys
import time

HOST = "127.0.0.1"
SRC_WELL = "127.0.0.1"
SRC_SLOW = "127.0.0.2"
SRC_IDLE = ("127.0.0.3", "127.0.0.4", "127.0.0.5")
SRC_RESET = "127.0.0.6"
SRC_GARBAGE = "127.0.0.7"
SRC_BURST = "127.0.0.8"
SRC_CHURN = "127.0.0.9"
# Connections a second of the churn process (--churn), at most.
CHURN_RATE = 1000
# Linux's IP_BIND_ADDRESS_NO_PORT (24): a socket bound to a source
# address takes its port at connect, per destination, not from one pool.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)

# A well-behaved operation's liveness bound: far above what any takes on
# a loaded 2-core machine, so that only a server that stopped answering
# reaches it.
OP_TIMEOUT = 60.0
# UDP is allowed to lose datagrams (a burst can fill the server's socket
# buffer): a well-behaved UDP client tries again, waiting longer each time,
# as real ones do.  No answer to any try is an error.
UDP_TRIES = (0.5, 1.0, 2.0, 4.0, 8.0)
RFC868_EPOCH = 2208988800
CHAT_LINE_MAX = 1024
CLIENTS_CANON = 256
# How long after the idle timeout a sleeper waits to be closed: the
# server's timer runs at least once a second; the rest is for load.
SLEEPER_SLACK = 10

# Workers per kind: each runs one client after another until the end.
WELL = {
    "echo_tcp": 5, "echo_udp": 2, "discard_tcp": 2, "discard_udp": 1,
    "daytime_tcp": 2, "daytime_udp": 1, "time_tcp": 3, "time_udp": 1,
    "chargen_tcp": 2, "chargen_udp": 1, "clients": 2, "chat": 2,
}
HOSTILE = {
    "slow_reader": 24, "reset": 4, "garbage_tcp": 3, "garbage_udp": 1,
    "udp_burst": 1, "idle_flood": 1, "sleeper": 4,
}
IDLE_PER_SOURCE = 150  # per flood, per source address (cap: 256)

loop = None
stats = {}
errors = []  # the first few, for the report
deadline = 0.0


def kind(name):
    if name not in stats:
        stats[name] = {"ok": 0, "errors": 0, "conns": 0, "dgrams": 0,
                       "bytes": 0, "retries": 0}
    return stats[name]


def error(name, why):
    kind(name)["errors"] += 1
    if len(errors) < 30:
        errors.append(f"{name}: {why}")


class Violation(Exception):
    """The server broke a promise (wrong bytes, bad JSON, ...)."""


def remaining():
    return deadline - time.monotonic()


# ---------------------------------------------------------------- sockets


def tcp_socket(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    if src != SRC_WELL:
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((src, 0))
    return s


async def connect(port, src=SRC_WELL, name=None):
    s = tcp_socket(src)
    try:
        await asyncio.wait_for(loop.sock_connect(s, (HOST, port)), 30)
    except BaseException:
        s.close()
        raise
    if name:
        kind(name)["conns"] += 1
    return s


def reset(s):
    """Close with a reset (SO_LINGER 0) rather than a FIN."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


async def recv_all(s, limit):
    out = bytearray()
    while len(out) <= limit:
        b = await loop.sock_recv(s, 65536)
        if not b:
            return bytes(out)
        out += b
    raise Violation(f"more than {limit} bytes")


async def recv_exact(s, n):
    out = bytearray()
    while len(out) < n:
        b = await loop.sock_recv(s, min(65536, n - len(out)))
        if not b:
            raise Violation(f"end of stream after {len(out)} of {n} bytes")
        out += b
    return bytes(out)


def udp_socket(src, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    if src != SRC_WELL:
        s.bind((src, 0))
    s.connect((HOST, port))
    return s


async def udp_ask(name, port, payload):
    """One request, retried on loss; returns the reply."""
    st = kind(name)
    for tries, wait in enumerate(UDP_TRIES):
        s = udp_socket(SRC_WELL, port)
        try:
            try:
                s.send(payload)
            except BlockingIOError:
                st["retries"] += 1
                await asyncio.sleep(wait)
                continue
            st["dgrams"] += 1
            try:
                reply = await asyncio.wait_for(loop.sock_recv(s, 70000), wait)
            except asyncio.TimeoutError:
                st["retries"] += 1
                continue
            return reply
        finally:
            s.close()
    raise Violation(f"no reply to {len(UDP_TRIES)} tries")


# ---------------------------------------------------------------- checks

WEEKDAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
DAYTIME_RE = re.compile(
    rf"^(?:{WEEKDAYS}) (?:{MONTHS}) [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{{4}}\r\n$")


def check_clock(what, t, t0, t1):
    """t, from the server, within the request's window (1 s of slack)."""
    if not (int(t0) - 1 <= t <= t1 + 1):
        raise Violation(f"{what} {t} outside [{t0:.3f}, {t1:.3f}]")


def check_daytime(reply, t0, t1):
    text = reply.decode("ascii", "replace")
    if not DAYTIME_RE.match(text):
        raise Violation(f"daytime line {reply[:80]!r}")
    tm = time.strptime(text.strip(), "%a %b %d %H:%M:%S %Y")
    check_clock("daytime", time.mktime(tm), t0, t1)


def check_time(reply, t0, t1):
    if len(reply) != 4:
        raise Violation(f"time reply of {len(reply)} bytes")
    check_clock("time", struct.unpack("!I", reply)[0] - RFC868_EPOCH, t0, t1)


def rfc864_cycle():
    """One cycle of RFC 864's pattern: 95 lines of 72 characters, CR LF."""
    out = bytearray()
    for line in range(95):
        out += bytes(0x20 + (line + col) % 95 for col in range(72))
        out += b"\r\n"
    return bytes(out)


CYCLE = rfc864_cycle()
PATTERN = CYCLE * (640 * 1024 // len(CYCLE) + 2)


def check_chargen(got, offset):
    if got != PATTERN[offset:offset + len(got)]:
        raise Violation(f"chargen bytes differ from RFC 864 at offset {offset}")


def check_chargen_dgram(reply):
    if len(reply) > 512:
        raise Violation(f"chargen datagram of {len(reply)} bytes")
    if not reply:
        return
    line = reply[0] - 0x20
    if not 0 <= line < 95 or reply != PATTERN[line * 74:line * 74 + len(reply)]:
        raise Violation(f"chargen datagram {reply[:40]!r} is not the pattern")


def check_chat_line(line):
    """What chat promises every member: CR LF, no control characters."""
    if not line.endswith(b"\r\n"):
        raise Violation(f"chat line without CR LF: {line[:60]!r}")
    body = line[:-2]
    if len(body) > 64 + 2 + CHAT_LINE_MAX:
        raise Violation(f"chat line of {len(body)} bytes")
    if any((c < 0x20 and c != 9) or c == 0x7f for c in body):
        raise Violation(f"chat line with control characters: {body[:60]!r}")


# ---------------------------------------------------------------- well-behaved


def payload_size(small, large):
    """Mostly small, sometimes large, sometimes empty."""
    r = random.random()
    if r < 0.05:
        return 0
    if r < 0.8:
        return random.randint(1, small)
    return random.randint(small, large)


async def echo_tcp(p):
    data = random.randbytes(payload_size(4096, 256 * 1024))
    s = await connect(p["echo"]["tcp"], name="echo_tcp")
    try:
        async def send():
            await loop.sock_sendall(s, data)
            s.shutdown(socket.SHUT_WR)
        sender = asyncio.ensure_future(send())
        try:
            got = await recv_all(s, len(data))
        finally:
            await sender
    finally:
        s.close()
    if got != data:
        raise Violation(f"echo returned {len(got)} bytes for {len(data)}, "
                        "not the same")
    kind("echo_tcp")["bytes"] += len(data)


async def echo_udp(p):
    data = random.randbytes(payload_size(1400, 16384))
    got = await udp_ask("echo_udp", p["echo"]["udp"], data)
    if got != data:
        raise Violation(f"echo datagram of {len(got)} bytes for {len(data)}")
    kind("echo_udp")["bytes"] += len(data)


async def discard_tcp(p):
    data = random.randbytes(payload_size(4096, 128 * 1024))
    s = await connect(p["discard"]["tcp"], name="discard_tcp")
    try:
        await loop.sock_sendall(s, data)
        s.shutdown(socket.SHUT_WR)
        got = await recv_all(s, 0)
    finally:
        s.close()
    if got:
        raise Violation(f"discard sent {len(got)} bytes")
    kind("discard_tcp")["bytes"] += len(data)


async def discard_udp(p):
    s = udp_socket(SRC_WELL, p["discard"]["udp"])
    try:
        s.send(random.randbytes(payload_size(512, 8192)))
        kind("discard_udp")["dgrams"] += 1
        try:
            got = await asyncio.wait_for(loop.sock_recv(s, 70000), 0.2)
        except asyncio.TimeoutError:
            return
    except BlockingIOError:
        kind("discard_udp")["retries"] += 1
        return
    finally:
        s.close()
    raise Violation(f"discard answered a datagram with {len(got)} bytes")


async def daytime_tcp(p):
    t0 = time.time()
    s = await connect(p["daytime"]["tcp"], name="daytime_tcp")
    try:
        reply = await recv_all(s, 64)
    finally:
        s.close()
    check_daytime(reply, t0, time.time())


async def daytime_udp(p):
    t0 = time.time()
    reply = await udp_ask("daytime_udp", p["daytime"]["udp"],
                          random.randbytes(random.randint(0, 64)))
    check_daytime(reply, t0, time.time())


async def time_tcp(p):
    t0 = time.time()
    s = await connect(p["time"]["tcp"], name="time_tcp")
    try:
        reply = await recv_all(s, 4)
    finally:
        s.close()
    check_time(reply, t0, time.time())


async def time_udp(p):
    t0 = time.time()
    reply = await udp_ask("time_udp", p["time"]["udp"],
                          random.randbytes(random.randint(0, 64)))
    check_time(reply, t0, time.time())


async def chargen_tcp(p):
    n = random.randint(1, 512 * 1024)
    s = await connect(p["chargen"]["tcp"], name="chargen_tcp")
    try:
        got = await recv_exact(s, n)
    finally:
        s.close()
    check_chargen(got, 0)
    kind("chargen_tcp")["bytes"] += n


async def chargen_udp(p):
    reply = await udp_ask("chargen_udp", p["chargen"]["udp"],
                          random.randbytes(random.randint(0, 64)))
    check_chargen_dgram(reply)
    kind("chargen_udp")["bytes"] += len(reply)


NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_.é€日本😀"
serial = 0


async def ask_clients(port, name, src=SRC_WELL, count="clients"):
    """Send name, return (our port, the reply as parsed JSON)."""
    s = await connect(port, src, name=count)
    try:
        me = s.getsockname()[1]
        await loop.sock_sendall(s, name.encode() + random.choice(
            [b"", b"\n", b"\r\n"]))
        reply = await recv_all(s, 256 * 1024)
    finally:
        s.close()
    try:
        return me, json.loads(reply.decode("utf-8"))
    except ValueError as e:
        raise Violation(f"client list is not JSON ({e}): {reply[:80]!r}")


async def clients(p):
    global serial
    serial += 1
    name = f"soak-{serial}-" + "".join(
        random.choice(NAME_CHARS) for _ in range(random.randint(0, 40)))
    me, reply = await ask_clients(p["clients"]["tcp"], name)
    want = {"name": name, "address": "127.0.0.1", "port": me}
    if not isinstance(reply, dict) or reply.get(name) != want:
        raise Violation(f"client list has {reply.get(name)!r} for {want}")


class Member:
    """A chat member whose reader task keeps the lines it gets.

    Lines of different senders may come in any order (the server reads
    its connections in whatever order they are ready); those of one
    sender come in the order sent.  So a line is looked for among all
    kept, and only it is taken; lines that name no member of the group
    (other groups, garbage) are dropped."""

    def __init__(self, s, group):
        self.s = s
        self.group = group  # the names of the group, shared
        self.lines = []
        self.event = asyncio.Event()
        self.name = f"{HOST}:{s.getsockname()[1]}"
        self.task = asyncio.ensure_future(self.read())
        self.failure = None

    async def read(self):
        buf = b""
        try:
            while True:
                b = await loop.sock_recv(self.s, 65536)
                if not b:
                    break
                buf += b
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line += b"\n"
                    check_chat_line(line)
                    if line.startswith(self.name.encode() + b": "):
                        raise Violation("a member got its own line back")
                    self.lines.append(line[:-2].decode("utf-8", "replace"))
                    self.event.set()
        except (Violation, OSError) as e:
            self.failure = e
        self.event.set()

    def take(self, want):
        self.lines = [l for l in self.lines
                      if any(n in l for n in self.group)]
        for i, line in enumerate(self.lines):
            if want(line):
                del self.lines[i]
                return line
        return None

    async def expect(self, want, what, about=None):
        """Wait for a line for which want() holds; return it.  On failure,
        say what was awaited and what was heard of about (a name)."""
        while True:
            line = self.take(want)
            if line is not None:
                return line
            if self.failure or self.task.done():
                heard = [l[:80] for l in self.lines if about and about in l]
                raise Violation(
                    f"chat member {self.name} waiting for {what}: "
                    f"{self.failure or 'end of stream'}; heard of "
                    f"{about}: {heard[-4:]}")
            self.event.clear()
            await self.event.wait()

    def close(self):
        self.task.cancel()
        self.s.close()


async def chat(p):
    members, names = [], []
    try:
        for _ in range(3):
            m = Member(await connect(p["chat"]["tcp"], name="chat"), names)
            members.append(m)
            names.append(m.name)
            welcome = await m.expect(lambda l: True, "its welcome")
            if not re.fullmatch(rf"\* welcome {re.escape(m.name)}, \d+ here",
                                welcome):
                raise Violation(f"chat welcome {welcome!r}")
            for o in members[:-1]:
                await o.expect(lambda l: l == f"* {m.name} joined",
                               f"* {m.name} joined", m.name)
        said = {}
        for i, m in enumerate(members):
            said[m.name] = [f"soak line {j} of {m.name} " + "".join(
                random.choice(NAME_CHARS) for _ in range(random.randint(
                    0, 200))) for j in range(random.randint(1, 4))]
            text = "".join(l + random.choice(["\n", "\r\n"])
                           for l in said[m.name])
            await loop.sock_sendall(m.s, text.encode())
        for m in members:
            for o in members:
                if o is m:
                    continue
                prefix = f"{o.name}: "
                for want in said[o.name]:
                    got = await m.expect(lambda l: l.startswith(prefix),
                                         f"{want[:40]!r}", o.name)
                    if got != prefix + want:
                        raise Violation(f"chat delivered {got[:80]!r}, "
                                        f"not {want[:60]!r}")
                    kind("chat")["bytes"] += len(want)
        gone = members.pop(0)
        gone.close()
        for m in members:
            got = await m.expect(lambda l: l.startswith(f"* {gone.name} "),
                                 f"* {gone.name} left", gone.name)
            if got != f"* {gone.name} left":
                raise Violation(f"chat told {m.name} {got!r} of a member "
                                "that left")
    finally:
        for m in members:
            m.close()


WELL_FNS = {
    "echo_tcp": echo_tcp, "echo_udp": echo_udp,
    "discard_tcp": discard_tcp, "discard_udp": discard_udp,
    "daytime_tcp": daytime_tcp, "daytime_udp": daytime_udp,
    "time_tcp": time_tcp, "time_udp": time_udp,
    "chargen_tcp": chargen_tcp, "chargen_udp": chargen_udp,
    "clients": clients, "chat": chat,
}


async def well_worker(name, p):
    fn = WELL_FNS[name]
    while remaining() > 0:
        try:
            await asyncio.wait_for(fn(p), OP_TIMEOUT)
            kind(name)["ok"] += 1
        except Violation as e:
            error(name, str(e))
        except Exception as e:  # a socket error, a timeout, bad text
            error(name, repr(e))


# ---------------------------------------------------------------- hostile


async def hold(seconds):
    await asyncio.sleep(max(0.0, min(seconds, remaining())))


def close_either(s):
    if random.random() < 0.5:
        reset(s)
    else:
        s.close()


def fill(s, limit):
    """Send what the socket takes without waiting, up to limit bytes."""
    sent = 0
    chunk = random.randbytes(65536)
    while sent < limit:
        try:
            n = s.send(chunk)
        except (BlockingIOError, InterruptedError):
            break
        sent += n
    return sent


async def slow_reader(p):
    """A client that does not read, or reads a trickle, for a while."""
    mode = random.choice(["echo", "echo_trickle", "chargen",
                          "chargen_trickle", "chat"])
    svc = mode.split("_")[0]
    s = await connect(p[svc]["tcp"], SRC_SLOW, name="slow_reader")
    try:
        stay = time.monotonic() + random.uniform(2, 30)
        if svc == "echo":
            fill(s, 4 << 20)
        offset = 0
        while time.monotonic() < stay and remaining() > 0:
            if mode == "chargen_trickle":
                try:
                    b = await asyncio.wait_for(loop.sock_recv(s, 200), 5)
                except asyncio.TimeoutError:
                    b = None
                if b == b"":
                    break  # the server closed it (idle timeout)
                if b:
                    check_chargen(b, offset)
                    offset += len(b)
            elif mode == "echo_trickle":
                try:
                    b = await asyncio.wait_for(loop.sock_recv(s, 200), 5)
                except asyncio.TimeoutError:
                    b = None
                if b == b"":
                    break
            await hold(0.5)
    except (OSError, asyncio.TimeoutError):
        pass  # a reset by the server (output overflow, idle timeout)
    finally:
        close_either(s)


async def reset_client(p):
    """Connect, perhaps send or read a little, then reset."""
    svc = random.choice(["echo", "discard", "daytime", "chargen", "time",
                         "clients", "chat"])
    s = await connect(p[svc]["tcp"], SRC_RESET, name="reset")
    try:
        what = random.random()
        if what < 0.4:
            fill(s, random.randint(1, 256 * 1024))
        if what > 0.7:
            await asyncio.sleep(random.uniform(0, 0.05))
            try:
                await asyncio.wait_for(loop.sock_recv(s, 4096), 0.2)
            except asyncio.TimeoutError:
                pass
    except OSError:
        pass
    finally:
        reset(s)


def garbage_bytes(n):
    r = random.random()
    if r < 0.3:
        return random.randbytes(n)
    if r < 0.5:  # long lines, CRs, NULs, control characters
        alphabet = b"\x00\x01\x1b\x7f\r\t\xff\xc3abc"
        return bytes(random.choice(alphabet) for _ in range(min(n, 4096)))
    if r < 0.7:  # lines past chat's bound
        return (b"x" * random.randint(1000, 3000) + b"\n") * random.randint(
            1, 4)
    if r < 0.85:  # invalid and overlong UTF-8, surrogates
        return random.choice([b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                              b"\xe2\x82", b"\x80\x80"]) * random.randint(1, 300)
    return b"\n" * random.randint(1, 2000)


async def garbage_tcp(p):
    svc = random.choice(["echo", "discard", "daytime", "chargen", "time",
                         "clients", "chat"])
    s = await connect(p[svc]["tcp"], SRC_GARBAGE, name="garbage_tcp")
    try:
        data = garbage_bytes(random.randint(0, 64 * 1024))
        if svc == "clients":
            data = data[:1024]  # one name, read whole
        await asyncio.wait_for(loop.sock_sendall(s, data), 5)
        if svc == "clients":
            reply = await asyncio.wait_for(recv_all(s, 256 * 1024), 10)
            try:
                json.loads(reply.decode("utf-8"))
            except ValueError as e:
                raise Violation(f"client list is not JSON after garbage: {e}")
        elif svc == "chat":
            end = time.monotonic() + 0.5
            buf = b""
            while time.monotonic() < end:
                try:
                    b = await asyncio.wait_for(loop.sock_recv(s, 65536), 0.5)
                except asyncio.TimeoutError:
                    break
                if not b:
                    break
                buf += b
            for line in buf.split(b"\n")[:-1]:
                check_chat_line(line + b"\n")
    except (OSError, asyncio.TimeoutError):
        pass
    finally:
        close_either(s)


async def garbage_udp(p):
    svc = random.choice(["echo", "discard", "daytime", "chargen", "time"])
    s = udp_socket(SRC_GARBAGE, p[svc]["udp"])
    try:
        for _ in range(random.randint(1, 20)):
            n = random.choice([0, 1, random.randint(2, 1500),
                               random.randint(1500, 65507)])
            try:
                s.send(garbage_bytes(n)[:65507])
                kind("garbage_udp")["dgrams"] += 1
            except (BlockingIOError, ConnectionRefusedError):
                pass
        await asyncio.sleep(0.05)
    finally:
        s.close()


async def udp_burst(p):
    svc = random.choice(["echo", "discard", "daytime", "chargen", "time"])
    s = udp_socket(SRC_BURST, p[svc]["udp"])
    try:
        for _ in range(random.randint(200, 1000)):
            try:
                s.send(random.randbytes(random.randint(0, 1400)))
                kind("udp_burst")["dgrams"] += 1
            except BlockingIOError:
                await asyncio.sleep(0.001)
            except ConnectionRefusedError:
                pass
        await asyncio.sleep(random.uniform(0.2, 1.0))
    finally:
        s.close()


async def open_idle(port, src, name):
    try:
        return await connect(port, src, name=name)
    except (OSError, asyncio.TimeoutError) as e:
        error(name, f"connect from {src}: {e!r}")
        return None


def still_open(s):
    """An idle connection the server has not closed: nothing to read."""
    try:
        return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


async def idle_flood(p, idle_timeout):
    """IDLE_PER_SOURCE connections from each source, held, then dropped."""
    svcs = ["echo", "discard", "clients"]
    opens = []
    for src in SRC_IDLE:
        for i in range(IDLE_PER_SOURCE):
            svc = "chat" if i < 5 else svcs[i % 3]
            opens.append((svc, open_idle(p[svc]["tcp"], src, "idle_flood")))
    socks = []
    for i in range(0, len(opens), 50):
        batch = opens[i:i + 50]
        # Taken before connecting, so that a connection's age is never
        # under-counted, however late this task runs.
        t0 = time.monotonic()
        got = await asyncio.gather(*(c for _, c in batch))
        socks += [(svc, s, t0) for (svc, _), s in zip(batch, got) if s]
    try:
        await hold(random.uniform(1, 8))
        now = time.monotonic()
        for svc, s, opened in socks:
            # Well before the idle timeout, a server that closed one
            # refused it: a per-source count that did not come down.
            if (svc != "chat" and now - opened < idle_timeout - 3 and
                    not still_open(s)):
                error("idle_flood", f"{svc} connection closed after "
                      f"{now - opened:.1f} s")
    finally:
        for _, s, _ in socks:
            close_either(s)
    await hold(1)


async def sleeper(p, idle_timeout):
    """An idle connection kept until the server's idle timeout ends it."""
    # Before connecting: the server's idle clock starts at its accept,
    # later than this, and the end is seen no earlier than it happens,
    # so however late this task runs, it cannot see a close too early.
    t0 = time.monotonic()
    s = await connect(p["echo"]["tcp"], SRC_IDLE[0], name="sleeper")
    try:
        if remaining() < idle_timeout + SLEEPER_SLACK:
            await hold(remaining())
            return
        try:
            b = await asyncio.wait_for(loop.sock_recv(s, 1),
                                       idle_timeout + SLEEPER_SLACK)
        except ConnectionResetError:
            b = b""
        except asyncio.TimeoutError:
            raise Violation(f"idle for {time.monotonic() - t0:.1f} s and "
                            "not closed")
        took = time.monotonic() - t0
        if b or took < idle_timeout - 1:
            raise Violation(f"closed after {took:.1f} s with {b!r}, "
                            f"idle timeout {idle_timeout} s")
        kind("sleeper")["ok"] += 1
    finally:
        s.close()


async def hostile_worker(name, p, idle_timeout):
    fn = {"slow_reader": slow_reader, "reset": reset_client,
          "garbage_tcp": garbage_tcp, "garbage_udp": garbage_udp,
          "udp_burst": udp_burst,
          "idle_flood": lambda p: idle_flood(p, idle_timeout)}.get(name)
    while remaining() > 0:
        try:
            if name == "sleeper":
                await asyncio.wait_for(sleeper(p, idle_timeout),
                                       idle_timeout + 60)
            else:
                await asyncio.wait_for(fn(p), OP_TIMEOUT)
                kind(name)["ok"] += 1
        except Violation as e:
            error(name, str(e))
        except (OSError, asyncio.TimeoutError) as e:
            # A hostile client may be cut off; failing to connect at all
            # within our caps is the server's failure, though.
            error(name, repr(e))


# ---------------------------------------------------------------- churn


def churn_one(name, port, payload):
    """One short connection, blocking, checked like the others."""
    t0 = time.time()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(OP_TIMEOUT)
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((SRC_CHURN, 0))
        s.connect((HOST, port))
        kind(name)["conns"] += 1
        if payload is not None:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        got = bytearray()
        while len(got) <= 4096:
            b = s.recv(4096)
            if not b:
                break
            got += b
    finally:
        s.close()
    if name == "churn_time":
        check_time(bytes(got), t0, time.time())
    elif name == "churn_daytime":
        check_daytime(bytes(got), t0, time.time())
    elif got != payload:
        raise Violation(f"{name}: {len(got)} bytes back for "
                        f"{len(payload)}")


def churn(p, seconds):
    """Short well-behaved connections one after another, at most
    CHURN_RATE a second: most of the soak's connections, for the fewest
    CPU cycles, so that a leak of a few bytes per connection adds up."""
    kinds = [("churn_time", p["time"]["tcp"]),
             ("churn_daytime", p["daytime"]["tcp"]),
             ("churn_echo", p["echo"]["tcp"]),
             ("churn_discard", p["discard"]["tcp"])]
    start = time.monotonic()
    end_at = start + seconds
    n = 0
    while True:
        now = time.monotonic()
        if now >= end_at:
            break
        ahead = start + n / CHURN_RATE - now
        if ahead > 0:
            time.sleep(ahead)
        elif ahead < -1:  # starved of CPU: do not make up for it
            start, n = now, 0
        name, port = kinds[n % len(kinds)]
        payload = None
        if name == "churn_echo":
            payload = random.randbytes(random.randint(1, 1024))
        elif name == "churn_discard":
            payload = b""
        try:
            churn_one(name, port, payload)
            kind(name)["ok"] += 1
        except Violation as e:
            error(name, str(e))
        except Exception as e:  # a socket error, a timeout, bad text
            error(name, repr(e))
        n += 1


# ---------------------------------------------------------------- the run


async def canonical_clients(p):
    """Leave the client list as 256 fixed names: the same state at every
    quiet point, whatever names the load left in it."""
    for i in range(CLIENTS_CANON):
        name = f"soak-canonical-{i:03d}"
        me, reply = await ask_clients(p["clients"]["tcp"], name,
                                      count="canonical")
        if reply.get(name) != {"name": name, "address": "127.0.0.1",
                               "port": me}:
            raise Violation(f"canonical client {name} missing")
    if len(reply) != CLIENTS_CANON:
        raise Violation(f"client list holds {len(reply)} names after "
                        f"{CLIENTS_CANON} fixed ones")
    kind("canonical")["ok"] += 1


async def main_async(args):
    global loop, deadline
    loop = asyncio.get_running_loop()
    p = json.loads(args.ports)
    deadline = time.monotonic() + args.seconds
    only = set(args.only.split(",")) if args.only else None
    tasks = []
    for name, n in WELL.items():
        if not only or name in only:
            tasks += [well_worker(name, p) for _ in range(n)]
    for name, n in HOSTILE.items():
        if not only or name in only:
            tasks += [hostile_worker(name, p, args.idle_timeout)
                      for _ in range(n)]
    await asyncio.gather(*tasks)
    try:
        await asyncio.wait_for(canonical_clients(p), OP_TIMEOUT)
    except (Violation, OSError, asyncio.TimeoutError) as e:
        error("canonical", repr(e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--idle-timeout", type=float, default=15)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--churn", action="store_true",
                    help="short connections only, one at a time")
    ap.add_argument("--only", default=None,
                    help="these kinds only (comma-separated), to debug")
    args = ap.parse_args()
    random.seed(args.seed)
    t0 = time.monotonic()
    if args.churn:
        churn(json.loads(args.ports), args.seconds)
    else:
        asyncio.run(main_async(args))
    json.dump({"seconds": time.monotonic() - t0, "kinds": stats,
               "errors": errors}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
