# serve_check.py -- python3 peers for the sock serve tests: one check per
# subcommand, exit 0 when it held, 1 (with the reason on stderr) when not,
# 77 when it cannot run here.  Every socket has a timeout; every loop is
# bounded.
#
# Usage: serve_check.py CHECK ARGS...   (see the functions below)

import json
import os
import random
import resource
import select
import signal
import subprocess
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
TIMEOUT = 10


def die(why):
    print("    " + why, file=sys.stderr)
    sys.exit(1)


def conn(port, host=HOST):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    return s


def recv_all(s, limit=64 << 20):
    out = bytearray()
    while len(out) < limit:
        b = s.recv(65536)
        if not b:
            break
        out += b
    return bytes(out)


def rfc864(offset, n):
    """n bytes of RFC 864's stream from byte offset."""
    out = bytearray()
    line, col = divmod(offset, 74)
    while len(out) < n:
        if col < 72:
            out.append(0x20 + (line + col) % 95)
        else:
            out.append(13 if col == 72 else 10)
        col += 1
        if col == 74:
            line, col = line + 1, 0
    return bytes(out)


# ---- echo, chargen, discard over UDP ----

def echo_udp(port, total="1048576"):
    """total random bytes through UDP echo in 8 KiB datagrams, lockstep;
    an empty datagram is echoed too."""
    data = os.urandom(int(total))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((HOST, int(port)))
    got = bytearray()
    for i in range(0, len(data), 8192):
        chunk = data[i:i + 8192]
        for _ in range(3):  # loopback rarely drops; allow a retry
            s.send(chunk)
            try:
                r = s.recv(65536)
                break
            except socket.timeout:
                continue
        else:
            die("no echo for datagram at %d" % i)
        if r != chunk:
            die("datagram at %d came back different" % i)
        got += r
    if bytes(got) != data:
        die("echoed stream differs")
    s.send(b"")
    if s.recv(100) != b"":
        die("empty datagram not echoed empty")


def chargen_tcp(port, total="4194304"):
    """A long read of chargen, checked byte for byte, read slowly at first
    (flow control) and then fast."""
    n = int(total)
    s = conn(int(port))
    got = bytearray()
    for _ in range(20):
        got += s.recv(100)
        time.sleep(0.01)
    while len(got) < n:
        b = s.recv(min(262144, n - len(got)))
        if not b:
            die("chargen ended after %d bytes" % len(got))
        got += b
    s.close()
    if bytes(got) != rfc864(0, n):
        bad = next(i for i in range(n) if got[i] != rfc864(i, 1)[0])
        die("pattern wrong at byte %d" % bad)


def chargen_file(path):
    """A file holding a prefix of chargen's stream from line 0."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 74 * 200:
        die("only %d bytes of chargen" % len(data))
    if data != rfc864(0, len(data)):
        die("pattern wrong")


def chargen_udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    lengths = set()
    for i in range(40):
        s.sendto(b"x" * i, (HOST, int(port)))
        r = s.recv(4096)
        if len(r) > 512:
            die("reply of %d characters" % len(r))
        lengths.add(len(r))
        if r and not any(r == rfc864(k * 74, len(r)) for k in range(95)):
            die("reply is not the pattern from a line start: %r" % r[:80])
    if len(lengths) < 5:
        die("reply lengths do not vary: %s" % sorted(lengths))


def no_reply_udp(port):
    """A datagram that gets no answer (discard)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    s.sendto(b"drop me", (HOST, int(port)))
    try:
        r = s.recv(100)
        die("unexpected reply %r" % r)
    except socket.timeout:
        pass


def time_udp_empty(port):
    """RFC 868 over UDP answers an empty datagram too."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(b"", (HOST, int(port)))
    r = s.recv(100)
    if len(r) != 4:
        die("reply of %d bytes" % len(r))
    t = int.from_bytes(r, "big") - 2208988800
    if abs(t - time.time()) > 5:
        die("time off by %d s" % (t - time.time()))


def daytime(port, transport):
    if transport == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(b"", (HOST, int(port)))
        line = s.recv(1000)
    else:
        line = recv_all(conn(int(port)))
    if not line.endswith(b"\r\n") or line.count(b"\n") != 1:
        die("not one CRLF line: %r" % line)
    t = time.mktime(time.strptime(line.decode().strip(),
                                  "%a %b %d %H:%M:%S %Y"))
    if abs(t - time.time()) > 5:
        die("date %r is off by %d s" % (line, t - time.time()))


# ---- clients ----

def ask(port, name):
    s = conn(int(port))
    s.sendall(name)
    r = recv_all(s)
    s.close()
    return r


def clients_names(port):
    """Names with quotes, backslashes, control bytes and bad UTF-8 come
    back as the JSON keys Python decodes them to."""
    names = [b'say "hi"', b"back\\slash", b"ctl\x00\x01\x1f\x7f\tend",
             b"bad\xff\xfeutf8\xc3", b"caf\xc3\xa9 \xf0\x9f\x98\x80",
             b"surrogate\xed\xa0\x80", b"</script>\xe2\x80\xa8",
             b"cut here\r\nnot this", b"only\r", b"\n", b"\r\r\n"]
    for raw in names:
        reply = ask(port, raw)
        try:
            reply.decode("utf-8")
            obj = json.loads(reply)
        except ValueError as e:
            die("reply to %r is not UTF-8 JSON: %s: %r" % (raw, e, reply))
        name = raw.split(b"\n")[0]
        if name.endswith(b"\r"):
            name = name[:-1]
        want = name.decode("utf-8", "replace")
        entry = obj.get(want)
        if entry is None:
            die("%r (%r) missing from %r" % (raw, want, list(obj)))
        if entry.get("name") != want or entry.get("address") != HOST:
            die("entry %r" % entry)
        if not isinstance(entry.get("port"), int) or entry["port"] <= 0:
            die("port %r" % entry.get("port"))
        for ch in reply.decode("utf-8"):
            if ord(ch) < 0x20:
                die("raw control character in %r" % reply)


def clients_long_list(port):
    """A list over 1024 bytes comes whole to a client that reads to the
    end."""
    for i in range(40):
        ask(port, b"long-list-member-%02d-%s" % (i, b"x" * 30))
    reply = ask(port, b"last")
    if len(reply) <= 1024:
        die("list of only %d bytes" % len(reply))
    obj = json.loads(reply)
    if "long-list-member-00-" + "x" * 30 not in obj or "last" not in obj:
        die("members missing")


def clients_huge_name(port, size="10485760"):
    """A 10 MiB name: the reply names at most its first 1024 bytes, comes
    while the client is still sending, and others are served meanwhile
    and after."""
    big = b"A" * int(size)
    s = conn(int(port))
    done = []

    def send():
        try:
            s.sendall(big)
        except OSError:
            pass  # the server may close once it has answered
        done.append(1)

    t = threading.Thread(target=send)
    t.start()
    other = json.loads(ask(port, b"bystander"))
    if "bystander" not in other:
        die("bystander not served")
    reply = recv_all(s, 1 << 20)
    t.join(TIMEOUT)
    s.close()
    obj = json.loads(reply)
    names = [k for k in obj if k and set(k) == {"A"}]
    if len(names) != 1 or not 1 <= len(names[0]) <= 1024:
        die("huge name kept as %r" % [len(n) for n in names])
    after = json.loads(ask(port, b"after"))
    if "after" not in after:
        die("not served after the huge name")


# ---- chat ----

class Member:
    def __init__(self, port):
        self.s = conn(int(port))
        self.buf = b""

    def expect(self, want, timeout=5):
        end = time.time() + timeout
        while want not in self.buf:
            left = end - time.time()
            if left <= 0:
                die("did not see %r in %r" % (want, self.buf[-300:]))
            self.s.settimeout(left)
            b = self.s.recv(65536)
            if not b:
                die("closed before %r (had %r)" % (want, self.buf[-300:]))
            self.buf += b
        i = self.buf.index(want) + len(want)
        seen, self.buf = self.buf[:i], self.buf[i:]
        return seen

    def name(self):
        return ("%s:%d" % self.s.getsockname()).encode()


def chat_three(port):
    a = Member(port)
    a.expect(b"\r\n")
    b = Member(port)
    b.expect(b"\r\n")
    a.expect(b"* " + b.name() + b" joined\r\n")
    c = Member(port)
    c.expect(b"3 here\r\n")
    a.expect(b"* " + c.name() + b" joined\r\n")
    b.expect(b"* " + c.name() + b" joined\r\n")
    a.s.sendall(b"hello from a\r\n")
    b.expect(a.name() + b": hello from a\r\n")
    c.expect(a.name() + b": hello from a\r\n")
    b.s.sendall(b"split ")
    time.sleep(0.1)
    b.s.sendall(b"line\nand\x1b[31mred\n")
    for m in (a, c):
        m.expect(b.name() + b": split line\r\n")
        m.expect(b.name() + b": and?[31mred\r\n")
    # A long line: cut to 1024 bytes, the rest up to its LF dropped.
    c.s.sendall(b"y" * 5000 + b"\nshort\n")
    for m in (a, b):
        seen = m.expect(b"short\r\n")
        if c.name() + b": " + b"y" * 1024 + b"\r\n" not in seen or \
                b"y" * 1025 in seen:
            die("long line not cut to 1024 bytes")
    c.expect(b"cut to 1024 bytes\r\n")
    if b"hello" in a.buf:
        die("the sender got its own line")
    gone = b.name()
    b.s.close()
    a.expect(b"* " + gone + b" left\r\n")
    c.expect(b"* " + gone + b" left\r\n")


def chat_slow_member(port):
    """A member that never reads is disconnected; the others go on."""
    slow = Member(port)
    slow.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.expect(b"\r\n")
    talker = Member(port)
    talker.expect(b"\r\n")
    reader = Member(port)
    reader.expect(b"\r\n")
    got = bytearray()

    def read():
        while True:
            try:
                b = reader.s.recv(65536)
            except OSError:
                break
            if not b:
                break
            got.extend(b)
            if b": still here\r\n" in got[-100:]:
                break

    t = threading.Thread(target=read)
    t.start()
    lines = (b"z" * 1000 + b"\n") * 16
    end = time.time() + 30
    # At a pace any reader keeps up with (16 MB/s at most): only the
    # silent member falls behind.
    while time.time() < end and b"(not reading)" not in talker.buf:
        talker.s.sendall(lines)
        time.sleep(0.001)
        if select.select([talker.s], [], [], 0)[0]:
            talker.buf += talker.s.recv(65536)
    if b"(not reading)" not in talker.buf:
        die("the silent member was never disconnected")
    talker.s.sendall(b"still here\n")
    t.join(TIMEOUT)
    if b": still here\r\n" not in got[-100:]:
        die("the room stopped after the disconnection")
    slow.s.close()


def chat_wait(port, text, ready):
    """Join, say so by creating the file ready, then wait for a line
    ending in text from another member."""
    m = Member(port)
    m.expect(b"\r\n")
    open(ready, "w").close()
    m.expect(b": " + text.encode() + b"\r\n", timeout=10)


# ---- load ----

def concurrent(port, n="200"):
    """n clients connected at once to echo, each served."""
    n = int(n)
    socks = [conn(int(port)) for _ in range(n)]
    for i, s in enumerate(socks):
        s.sendall(b"client %d\n" % i)
    for i, s in enumerate(socks):
        want = b"client %d\n" % i
        got = b""
        while len(got) < len(want):
            b = s.recv(100)
            if not b:
                break
            got += b
        if got != want:
            die("client %d got %r" % (i, got))
    for s in socks:
        s.close()


def concurrent_clients(port, n="200"):
    """n threads register names with the clients service at once."""
    n = int(n)
    errors = []

    def one(i):
        try:
            obj = json.loads(ask(port, b"thread-%d" % i))
            if "thread-%d" % i not in obj:
                errors.append("thread-%d missing" % i)
        except Exception as e:  # noqa: broad on purpose, reported
            errors.append("thread-%d: %s" % (i, e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 3)
    if errors:
        die("%d failures, first: %s" % (len(errors), errors[0]))
    obj = json.loads(ask(port, b"final"))
    missing = [i for i in range(n) if "thread-%d" % i not in obj]
    if missing:
        die("%d names missing from the list" % len(missing))


def at_cap(port, cap, n):
    """With the connection cap at cap, n > cap clients connect: the first
    cap are served, the others wait (not refused) and are served once the
    first ones leave."""
    cap, n = int(cap), int(n)
    socks = [conn(int(port)) for _ in range(n)]
    for s in socks:
        s.sendall(b"x")
    for i, s in enumerate(socks[:cap]):
        if s.recv(1) != b"x":
            die("client %d below the cap not served" % i)
    s = socks[cap]
    s.settimeout(0.5)
    try:
        s.recv(1)
        die("client past the cap served at once")
    except socket.timeout:
        pass
    for s in socks[:cap]:
        s.close()
    for i, s in enumerate(socks[cap:]):
        s.settimeout(5)
        if s.recv(1) != b"x":
            die("client %d past the cap never served" % (cap + i))
        s.close()


def rss_kib(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def idle(echo_port, clients_port, pid, n="500", most="0"):
    """n idle connections held while others are served; prints the
    server's resident memory before and after, which must grow by at most
    most bytes per connection (0: not checked)."""
    n, most = int(n), int(most)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 100:
        print("    descriptor limit %d too low" % hard, file=sys.stderr)
        sys.exit(77)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    before = rss_kib(pid)
    fds = len(os.listdir("/proc/%s/fd" % pid))
    held = [conn(int(echo_port)) for _ in range(n)]
    # Measured once the server holds them all (a loaded machine may take
    # a while to accept n), not after a guess at how long that takes.
    end = time.monotonic() + 60
    while len(os.listdir("/proc/%s/fd" % pid)) < fds + n:
        if time.monotonic() > end:
            die("the server did not accept %d connections in 60 s" % n)
        time.sleep(0.05)
    after = rss_kib(pid)
    s = conn(int(echo_port))
    s.sendall(b"still served")
    s.shutdown(socket.SHUT_WR)
    if recv_all(s) != b"still served":
        die("echo not served with %d idle connections" % n)
    if "fresh" not in json.loads(ask(clients_port, b"fresh")):
        die("clients not served with %d idle connections" % n)
    for i in (0, n // 2, n - 1):
        held[i].sendall(b"ping")
        if held[i].recv(10) != b"ping":
            die("idle connection %d was dropped" % i)
    print("    rss %d KiB before, %d KiB with %d idle connections: "
          "%d bytes each" % (before, after, n,
                             (after - before) * 1024 // n), file=sys.stderr)
    if most and (after - before) * 1024 > most * n:
        die("more than %d bytes per idle connection" % most)
    for h in held:
        h.close()


def garbage(tcp_ports, udp_ports):
    """Random bytes at every port; nothing may crash the server."""
    rnd = random.Random(868)
    for p in tcp_ports.split(","):
        for _ in range(3):
            s = conn(int(p))
            try:
                s.sendall(rnd.randbytes(rnd.randrange(1, 200000)))
                s.shutdown(socket.SHUT_WR)
                s.settimeout(2)
                recv_all(s, 1 << 20)
            except OSError:
                pass  # services that answer at once may have closed
            s.close()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for p in udp_ports.split(","):
        for _ in range(50):
            u.sendto(rnd.randbytes(rnd.randrange(0, 65000)), (HOST, int(p)))


def privileged_port(port):
    """As root: a datagram from port 999 gets no reply; one from an
    unprivileged port does."""
    if os.geteuid() != 0:
        print("    not root: cannot bind port 999", file=sys.stderr)
        sys.exit(77)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((HOST, 999))
    except OSError as e:
        print("    cannot bind port 999: %s" % e, file=sys.stderr)
        sys.exit(77)
    s.settimeout(1)
    s.sendto(b"loop?", (HOST, int(port)))
    try:
        die("reply to a privileged port: %r" % s.recv(100))
    except socket.timeout:
        pass
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    u.sendto(b"fine", (HOST, int(port)))
    if u.recv(100) != b"fine":
        die("no reply to an unprivileged port")


# ---- inetd and socket activation ----

def wait_exit(p, limit=5):
    try:
        return p.wait(limit)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        die("sock serve still running after %d s" % limit)


def inetd_pair(sock, service):
    """As inetd does: a connected socket as standard input, output and
    error.  The client must see the end of the reply (the server let go of
    descriptors 0, 1 and 2) and the server must exit 0 by itself."""
    a, b = socket.socketpair()
    p = subprocess.Popen([sock, "serve", "--inetd", service], stdin=b,
                         stdout=b, stderr=b)
    b.close()
    a.settimeout(TIMEOUT)
    if service == "echo":
        a.sendall(b"through inetd\n")
        a.shutdown(socket.SHUT_WR)
    reply = recv_all(a)
    rc = wait_exit(p)
    if rc != 0:
        die("exit status %d" % rc)
    if service == "echo" and reply != b"through inetd\n":
        die("echo reply %r" % reply)
    if service == "daytime" and not reply.endswith(b"\r\n"):
        die("daytime reply %r" % reply)
    if b"accept" in reply or b"listen" in reply:
        die("log lines went to the client: %r" % reply)


def inetd_udp(sock):
    """A bound UDP socket as standard input (inetd's "dgram wait"): served
    until SIGTERM, then exit 0."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((HOST, 0))
    p = subprocess.Popen([sock, "serve", "--inetd", "echo"], stdin=u,
                         stderr=subprocess.DEVNULL)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(1)
    for _ in range(10):
        c.sendto(b"dgram", u.getsockname())
        try:
            r = c.recv(100)
            break
        except socket.timeout:
            continue
    else:
        p.kill()
        die("no reply")
    if r != b"dgram":
        die("reply %r" % r)
    u.close()
    p.send_signal(signal.SIGTERM)
    rc = wait_exit(p)
    if rc != 0:
        die("exit status %d" % rc)


def launch(portfile, names, kinds, *cmd):
    """systemd's part in socket activation: bind a socket per kind (tcp,
    udp) on 127.0.0.1, port 0, as descriptors 3, 4, ...; write the ports
    to portfile; set LISTEN_FDS, LISTEN_PID (this process: exec keeps it)
    and LISTEN_FDNAMES (unless names is "-"); exec cmd."""
    socks = []
    for kind in kinds.split(","):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM
                          if kind == "tcp" else socket.SOCK_DGRAM)
        s.bind((HOST, 0))
        if kind == "tcp":
            s.listen(64)
        socks.append(s)
    with open(portfile + ".tmp", "w") as f:
        f.write(" ".join(str(s.getsockname()[1]) for s in socks) + "\n")
    os.rename(portfile + ".tmp", portfile)
    # Through fresh descriptors above every target, so that no dup2 is
    # onto itself (which would keep close-on-exec).
    tmp = [os.dup(s.fileno()) for s in socks]
    for s in socks:
        s.close()
    for i, fd in enumerate(tmp):
        os.dup2(fd, 3 + i)
        os.close(fd)
    os.environ["LISTEN_FDS"] = str(len(socks))
    os.environ["LISTEN_PID"] = str(os.getpid())
    if names != "-":
        os.environ["LISTEN_FDNAMES"] = names
    os.execv(cmd[0], list(cmd))


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
