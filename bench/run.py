#!/usr/bin/env python3
# run.py -- make bench: every workload against every server, docs/performance.md
#
# usage: bench/run.py [--build DIR] [--out FILE] [--runs N] [--duration S]
#                     [--warmup S] [--only ID,ID] [--quick]
#
# Starts each server on free loopback ports, pinned to CPU 0, waits until
# it listens, and runs `sock bench` pinned to CPU 1 against it: several
# runs per cell, the servers of a workload alternating within each round.
# Every process it starts is stopped at the end -- only those, by PID --
# also on Ctrl-C or failure.  A server that does not start makes its cells
# "n/a"; the run goes on.  BENCH_QUICK=1 (or --quick) runs one workload,
# one run, briefly: the test suite's check that this script works.
#
# The report is markdown: the machine, the commands, one table per
# workload with medians, min and max, ratios against the hand-written
# reference measured in the same run, the issue's targets with met or
# missed, and a gnuplot chart of the ratios (FILE with .png).

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_CPU, CLIENT_CPU = "0", "1"
HOLD_CONNS = 10000

started = []  # every Popen this script started, stopped by PID at the end


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def spawn(argv, logfile):
    out = open(logfile, "ab")
    try:
        p = subprocess.Popen(["taskset", "-c", SERVER_CPU] + argv,
                             stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT,
                             preexec_fn=raise_nofile)
    finally:
        out.close()
    started.append(p)
    return p


def stop(p):
    if p.poll() is not None:
        return
    p.terminate()
    try:
        p.wait(timeout=3)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=3)


def stop_all():
    for p in started:
        try:
            stop(p)
        except Exception as e:  # keep stopping the others
            log(f"bench: could not stop {p.pid}: {e}")


def on_signal(signo, frame):
    raise KeyboardInterrupt


# ---------------------------------------------------------------- ports


def free_port(both=False):
    """A port the kernel just handed out on 127.0.0.1 (TCP, and free for
    UDP too when both)."""
    for _ in range(100):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        if not both:
            t.close()
            return port
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


def listening(port, proto):
    """Whether something listens on 127.0.0.1:port (TCP) or is bound to it
    (UDP), from /proc: no connection disturbs the server."""
    path = "/proc/net/tcp" if proto == "tcp" else "/proc/net/udp"
    want = "0100007F:%04X" % port
    with open(path) as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and (proto == "udp" or fields[3] == "0A"):
                return True
    return False


# ---------------------------------------------------------------- servers


class Instance:
    """One server process: a label, its command, what it serves where."""

    def __init__(self, key, label, argv, ports, logdir):
        self.key, self.label, self.argv = key, label, argv
        self.ports = ports  # {"tcp": port, "udp": port}
        self.log = os.path.join(logdir, key + ".log")
        self.proc = None
        self.error = None
        self.note = None
        self.exits = []  # why it exited, each time it had to be restarted
        # A busy-polling server takes a whole core even when idle: it runs
        # only during the workloads that list it.
        self.lazy = "busy" in key

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        if self.error:
            return
        try:
            self.proc = spawn(self.argv, self.log)
        except OSError as e:
            self.error = f"cannot start: {e}"

    def wait_ready(self, deadline):
        if self.error or not self.proc:
            return
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if all(listening(port, proto)
                   for proto, port in self.ports.items()):
                self.check_log()
                return
            time.sleep(0.05)
        if self.proc.poll() is None:
            stop(self.proc)
            self.error = "did not start listening"
        else:
            self.error = "exited at start: " + self.tail()
        log(f"bench: {self.label}: {self.error}")

    def check_log(self):
        """sock serve tells when io_uring is unavailable and it runs on
        epoll instead."""
        time.sleep(0.05)
        text = open(self.log, errors="replace").read()
        m = re.search(r"engine epoll \(([^)]*)\)", text)
        if "io_uring" in self.key and m:
            self.note = "ran on epoll: " + m.group(1)

    def tail(self):
        try:
            lines = open(self.log, errors="replace").read().strip()
            return lines.splitlines()[-1] if lines else "no output"
        except OSError:
            return "no output"

    def alive(self):
        return not self.error and self.proc and self.proc.poll() is None

    def revive(self):
        """A server that died under load is started again on its ports,
        and its row says so."""
        if self.error or not self.proc or self.proc.poll() is None:
            return
        self.exits.append(f"exit status {self.proc.returncode}: "
                          f"{self.tail()}")
        log(f"bench: {self.label} exited ({self.exits[-1]}); restarting it")
        self.start()
        self.wait_ready(time.monotonic() + 10)


def xinetd_conf(path, ports, logdir):
    services = [("echo", "stream", "tcp", ports["echo"]),
                ("echo", "dgram", "udp", ports["echo"]),
                ("time", "stream", "tcp", ports["time"]),
                ("discard", "stream", "tcp", ports["discard"]),
                ("chargen", "stream", "tcp", ports["chargen"])]
    text = ["defaults\n{\n\tinstances = UNLIMITED\n\tper_source = UNLIMITED\n"
            "\tcps = 1000000 1\n"
            f"\tlog_type = FILE {logdir}/xinetd-services.log\n}}\n"]
    for name, stype, proto, port in services:
        text.append(
            f"service {name}\n{{\n\ttype = INTERNAL UNLISTED\n"
            f"\tid = {name}-{stype}\n\tsocket_type = {stype}\n"
            f"\tprotocol = {proto}\n\twait = {'yes' if stype == 'dgram' else 'no'}\n"
            f"\tuser = root\n\tbind = 127.0.0.1\n\tport = {port}\n}}\n")
    with open(path, "w") as f:
        f.write("".join(text))


def sock_serve_flags(sock):
    try:
        out = subprocess.run([sock, "serve", "--help"], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return set(re.findall(r"(--[a-z-]+)", out))


def make_instances(build, sock, logdir, quick):
    """Every server of the suite, keyed by what it serves."""
    b = os.path.join(build, "bench")
    py = sys.executable or "python3"
    inst = {}
    flags = sock_serve_flags(sock)

    def add(key, label, argv, ports):
        i = Instance(key, label, argv, ports, logdir)
        if not os.path.exists(argv[0]) and not shutil.which(argv[0]):
            i.error = f"{argv[0]} is not built or installed"
        inst[key] = i

    def ref(name, *args):
        return [os.path.join(b, name)] + list(args)

    def serve(engine, service, proto, port, extra=()):
        argv = [sock, "serve", "--engine", engine]
        if "--quiet" in flags:
            argv.append("--quiet")
        argv.append("--tcp-only" if proto == "tcp" else "--udp-only")
        if "--max-conns" in flags:
            argv += ["--max-conns", str(HOLD_CONNS * 2)]
        if "--idle-timeout" in flags:
            argv += ["--idle-timeout", "0"]
        return argv + list(extra) + [f"{service}=127.0.0.1:{port}"]

    p = free_port()
    add("epoll-echo", "hand-written epoll", ref("epoll_echo", str(p)),
        {"tcp": p})
    for engine in ("epoll", "io_uring"):
        p = free_port()
        add(f"sock-{engine}-echo", f"sock serve ({engine})",
            serve(engine, "echo", "tcp", p), {"tcp": p})
    if quick:
        return inst
    # The same, built with the statistics counters compiled out.
    nostats = os.path.join(b, "nostats", "sock")
    for engine in ("epoll", "io_uring"):
        p = free_port()
        argv = serve(engine, "echo", "tcp", p)
        add(f"sock-{engine}-echo-nostats",
            f"sock serve ({engine}), counters compiled out",
            [nostats] + argv[1:], {"tcp": p})
    p = free_port()
    add("epoll-busy-echo", "hand-written epoll, busy-poll",
        ref("epoll_echo", "--busy", str(p)), {"tcp": p})
    if "--busy-poll" in flags:
        p = free_port()
        add("sock-epoll-busy-echo", "sock serve (epoll, busy-poll)",
            serve("epoll", "echo", "tcp", p, ["--busy-poll"]), {"tcp": p})
    for key, label, argv in [
            ("uring-echo", "hand-written io_uring", ref("uring_echo")),
            ("uv-echo", "libuv", ref("uv_echo")),
            ("event-echo", "libevent", ref("event_echo")),
            ("asyncio-echo", "Python asyncio",
             [py, os.path.join(ROOT, "bench/asyncio_echo.py")]),
            ("socketserver-echo", "Python socketserver",
             [py, os.path.join(ROOT, "bench/socketserver_ref.py"), "echo"]),
            ("epoll-time", "hand-written epoll", ref("time_server")),
            ("socketserver-time", "Python socketserver",
             [py, os.path.join(ROOT, "bench/socketserver_ref.py"), "time"]),
            ("epoll-discard", "hand-written epoll",
             ref("bulk_server", "discard")),
            ("epoll-chargen", "hand-written epoll",
             ref("bulk_server", "chargen"))]:
        p = free_port()
        add(key, label, argv + [str(p)], {"tcp": p})
    for key, label, args in [
            ("mmsg-udp", "hand-written recvmmsg/sendmmsg", ["--mmsg"]),
            ("plain-udp", "hand-written recvfrom/sendto", [])]:
        p = free_port(both=True)
        add(key, label, ref("udp_echo", *args, str(p)), {"udp": p})
    for engine in ("epoll", "io_uring"):
        for service in ("time", "discard", "chargen"):
            p = free_port()
            add(f"sock-{engine}-{service}", f"sock serve ({engine})",
                serve(engine, service, "tcp", p), {"tcp": p})
        p = free_port(both=True)
        add(f"sock-{engine}-udp", f"sock serve ({engine})",
            serve(engine, "echo", "udp", p), {"udp": p})
    xp = {"echo": free_port(both=True), "time": free_port(),
          "discard": free_port(), "chargen": free_port()}
    conf = os.path.join(logdir, "xinetd.conf")
    xinetd_conf(conf, xp, logdir)
    add("xinetd", "xinetd", [shutil.which("xinetd") or "xinetd",
                             "-dontfork", "-f", conf],
        {"tcp": xp["echo"], "udp": xp["echo"]})
    inst["xinetd"].service_ports = xp
    p = free_port()
    add("iperf3", "iperf3", [shutil.which("iperf3") or "iperf3", "-s",
                             "-B", "127.0.0.1", "-p", str(p)], {"tcp": p})
    add_tls(inst, add, ref, serve, logdir)
    return inst


def make_certs(logdir):
    """tests/tls/certs.sh's certificates, for the TLS servers; None when
    they cannot be made (openssl missing): the TLS cells read n/a."""
    d = os.path.join(logdir, "certs")
    try:
        subprocess.run(["sh", os.path.join(ROOT, "tests/tls/certs.sh"), d],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return d


def add_tls(inst, add, ref, serve, logdir):
    """The TLS servers: the hand-written OpenSSL epoll server (echo and
    discard), openssl s_server (handshakes), sock serve --tls-cert."""
    certs = make_certs(logdir)
    CERTS["dir"] = certs
    if not certs:
        return
    cert, key = os.path.join(certs, "leaf.pem"), os.path.join(certs, "leaf.key")
    for svc, extra in (("echo", []), ("discard", ["--discard"])):
        p = free_port()
        add(f"tls-ref-{svc}", "hand-written OpenSSL epoll",
            ref("tls_echo", *extra, cert, key, str(p)), {"tcp": p})
        for engine in ("epoll", "io_uring"):
            p = free_port()
            add(f"sock-{engine}-tls-{svc}", f"sock serve --tls-cert ({engine})",
                serve(engine, svc, "tcp", p,
                      ["--tls-cert", cert, "--tls-key", key]), {"tcp": p})
    p = free_port()
    add("s_server", "openssl s_server",
        [shutil.which("openssl") or "openssl", "s_server", "-quiet",
         "-accept", f"127.0.0.1:{p}", "-cert", cert, "-key", key], {"tcp": p})


def port_of(inst, service, proto):
    sp = getattr(inst, "service_ports", None)
    if sp:
        return sp[service]
    return inst.ports[proto]


# ---------------------------------------------------------------- workloads

# Each workload: the sock bench mode and arguments, the servers (instance
# keys) in table order, the reference, and what is compared.
WORKLOADS = [
    dict(id="echo64", title="echo, 50 connections, 64 B",
         mode="pingpong", args=["-c", "50", "-s", "64"], service="echo",
         proto="tcp", ref="epoll-echo", metric="ops_per_s", unit="msg/s",
         servers=["epoll-echo", "uring-echo", "uv-echo", "event-echo",
                  "asyncio-echo", "socketserver-echo", "xinetd",
                  "sock-epoll-echo", "sock-io_uring-echo",
                  "sock-epoll-echo-nostats", "sock-io_uring-echo-nostats"]),
    dict(id="latency", title="echo, 1 connection, 64 B (latency)",
         mode="pingpong", args=["-c", "1", "-s", "64"], service="echo",
         proto="tcp", ref="epoll-echo", metric="p50", unit="µs p50",
         servers=["epoll-echo", "epoll-busy-echo", "uring-echo", "uv-echo",
                  "event-echo", "asyncio-echo", "socketserver-echo",
                  "xinetd", "sock-epoll-echo", "sock-io_uring-echo",
                  "sock-epoll-busy-echo"]),
    dict(id="echo16k", title="echo, 50 connections, 16 KiB",
         mode="pingpong", args=["-c", "50", "-s", "16384"], service="echo",
         proto="tcp", ref="epoll-echo", metric="ops_per_s", unit="msg/s",
         servers=["epoll-echo", "uring-echo", "uv-echo", "event-echo",
                  "asyncio-echo", "xinetd", "sock-epoll-echo",
                  "sock-io_uring-echo"]),
    dict(id="time", title="RFC 868 time, connect/read/close, 50 in flight",
         mode="connrate", args=["-p", "50", "--expect-time"],
         service="time", proto="tcp", ref="epoll-time", metric="ops_per_s",
         unit="conn/s",
         servers=["epoll-time", "socketserver-time", "xinetd",
                  "sock-epoll-time", "sock-io_uring-time"]),
    dict(id="udp", title="UDP echo, 32 in flight, 64 B", mode="udp",
         args=["-p", "32", "-s", "64"], service="echo", proto="udp",
         ref="mmsg-udp", metric="ops_per_s", unit="req/s",
         servers=["mmsg-udp", "plain-udp", "xinetd", "sock-epoll-udp",
                  "sock-io_uring-udp"]),
    dict(id="discard", title="discard, one stream", mode="bulk-send",
         args=[], service="discard", proto="tcp", ref="epoll-discard",
         metric="gb_per_s", unit="GB/s",
         servers=["epoll-discard", "iperf3", "xinetd", "sock-epoll-discard",
                  "sock-io_uring-discard"]),
    dict(id="chargen", title="chargen, one stream", mode="bulk-recv",
         args=["--check"], service="chargen", proto="tcp",
         ref="epoll-chargen", metric="gb_per_s", unit="GB/s",
         servers=["epoll-chargen", "iperf3", "xinetd", "sock-epoll-chargen",
                  "sock-io_uring-chargen"]),
    dict(id="memory",
         title=f"memory per idle connection ({HOLD_CONNS:,} held), user space",
         mode="hold", args=["-c", str(HOLD_CONNS), "--sources", "64"],
         service="echo", proto="tcp", ref="epoll-echo",
         metric="bytes_per_conn", unit="B/conn",
         servers=["epoll-echo", "uring-echo", "uv-echo", "event-echo",
                  "asyncio-echo", "sock-epoll-echo", "sock-io_uring-echo"]),
]

LOWER_IS_BETTER = {"p50", "bytes_per_conn"}

# Where the TLS workloads' CA is ("{cafile}" in their arguments).
CERTS = {"dir": None}
TLS_ARGS = ["--tls", "--cafile", "{cafile}"]
WORKLOADS += [
    dict(id="tls-echo64", title="TLS echo, 50 connections, 64 B",
         mode="pingpong", args=["-c", "50", "-s", "64"] + TLS_ARGS,
         service="echo", proto="tcp", ref="tls-ref-echo",
         metric="ops_per_s", unit="msg/s",
         servers=["tls-ref-echo", "sock-epoll-tls-echo",
                  "sock-io_uring-tls-echo"]),
    dict(id="tls-bulk", title="TLS bulk, one stream to discard",
         mode="bulk-send", args=TLS_ARGS, service="discard", proto="tcp",
         ref="tls-ref-discard", metric="gb_per_s", unit="GB/s",
         servers=["tls-ref-discard", "sock-epoll-tls-discard",
                  "sock-io_uring-tls-discard"]),
    dict(id="tls-handshakes",
         title="TLS handshakes (connect, full handshake, close), 50 in flight",
         mode="connrate", args=["-p", "50"] + TLS_ARGS, service="echo",
         proto="tcp", ref="s_server", metric="ops_per_s", unit="conn/s",
         servers=["s_server", "tls-ref-echo", "sock-epoll-tls-echo",
                  "sock-io_uring-tls-echo"]),
]


def bench_argv(sockbench, w, inst, opts):
    port = port_of(inst, w["service"], w["proto"])
    args = [os.path.join(CERTS["dir"] or "", "ca.pem") if a == "{cafile}"
            else a for a in w["args"]]
    # xinetd's chargen has its own alphabet: no pattern check there.
    if inst.key == "xinetd" and "--check" in args:
        args.remove("--check")
    if w["mode"] == "hold":
        timing = ["-d", "2", "-w", "0"]
    else:
        timing = ["-d", str(opts.duration), "-w", str(opts.warmup)]
    return (["taskset", "-c", CLIENT_CPU] + sockbench +
            [w["mode"]] + args + timing +
            ["--json", "--server-pid", str(inst.pid), f"127.0.0.1:{port}"])


def proc_cpu_ticks(pid):
    """utime+stime of pid, its reaped children and its living ones."""
    def stat(p):
        with open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), [int(x) for x in fields[11:15]]
    total = sum(stat(pid)[1])
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid, t = stat(d)
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                total += t[0] + t[1]
    return total


def run_iperf3(w, inst, opts):
    port = inst.ports["tcp"]
    argv = ["taskset", "-c", CLIENT_CPU, "iperf3", "-c", "127.0.0.1", "-p",
            str(port), "-t", str(opts.duration), "-O", str(opts.warmup),
            "-J"]
    if w["mode"] == "bulk-recv":
        argv.append("-R")
    before = proc_cpu_ticks(inst.pid)
    t0 = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True,
                         timeout=opts.duration + opts.warmup + 30)
    secs = time.monotonic() - t0
    ticks = proc_cpu_ticks(inst.pid) - before
    if ticks < 0:  # a child exited between the samples, not yet reaped
        ticks = None
    d = json.loads(out.stdout)
    if "error" in d:
        raise RuntimeError(d["error"])
    bps = d["end"]["sum_received"]["bits_per_second"]
    # The CPU was sampled around the whole client run (set-up and the
    # omitted warm-up too), so it is divided by what that run moved.
    moved = bps / 8 * secs
    cpu_s = None if ticks is None else ticks / os.sysconf("SC_CLK_TCK")
    return {"gb_per_s": bps / 8 / 1e9, "errors": 0, "mismatches": 0,
            "lost": 0, "p99": None,
            "cpu_us_per_mb": cpu_s * 1e12 / moved if moved and cpu_s
            is not None else None,
            "argv": argv}


def run_one(sockbench, w, inst, opts):
    """One run of one cell: a dict of figures, or raises."""
    if inst.key == "iperf3":
        return run_iperf3(w, inst, opts)
    argv = bench_argv(sockbench, w, inst, opts)
    out = subprocess.run(argv, capture_output=True, text=True,
                         timeout=opts.duration + opts.warmup + 60)
    try:
        d = json.loads(out.stdout)
    except ValueError:
        raise RuntimeError((out.stderr.strip() or "no output")[-200:])
    srv = d.get("server") or {}
    r = {"ops_per_s": d["ops_per_s"], "gb_per_s": d["gb_per_s"],
         "p50": d["latency_us"]["p50"], "p99": d["latency_us"]["p99"],
         "p999": d["latency_us"]["p999"], "errors": d["errors"],
         "mismatches": d["mismatches"], "lost": d["lost"],
         "ops": d["ops"], "cpu_us_per_op": srv.get("cpu_us_per_op"),
         "cpu_us_per_mb": srv.get("cpu_us_per_mb"),
         "bytes_per_conn": srv.get("bytes_per_conn"),
         "held": d.get("established"), "error": d.get("error"),
         "argv": argv}
    if w["mode"] == "hold" and r["bytes_per_conn"] is None:
        raise RuntimeError(d.get("error") or "memory not measured")
    if not d["ops"] and w["mode"] != "hold":
        raise RuntimeError(d.get("error") or "no operation completed")
    return r


# ---------------------------------------------------------------- running


def run_workload(w, inst, sockbench, opts, results):
    keys = [k for k in w["servers"] if k in inst]
    runs = 1 if w["mode"] == "hold" else opts.runs
    measure_workload(w, inst, keys, runs, sockbench, opts, results)


def measure_workload(w, inst, keys, runs, sockbench, opts, results):
    cells = {k: [] for k in keys}
    errors = {}
    for r in range(runs):
        # Alternate: each round starts with a different server.
        order = keys[r % len(keys):] + keys[:r % len(keys)] if keys else []
        for k in order:
            i = inst[k]
            if w["mode"] == "hold":
                i = fresh_instance(i)
            if i.lazy:
                i.start()
                i.wait_ready(time.monotonic() + 10)
            else:
                i.revive()
            if not i.alive():
                errors[k] = i.error or "not running"
                continue
            try:
                cells[k].append(run_one(sockbench, w, i, opts))
            except (RuntimeError, ValueError, KeyError,
                    subprocess.TimeoutExpired) as e:
                errors[k] = str(e)
                log(f"bench: {w['id']} / {i.label}: {e}")
            if (w["mode"] == "hold" or i.lazy) and i.proc:
                stop(i.proc)
    results[w["id"]] = {"cells": cells, "errors": errors, "keys": keys,
                        "runs": runs}


def fresh_instance(old):
    """hold measures a server's memory growth, so each gets a new
    process, started like the shared one."""
    ports = {proto: free_port() for proto in old.ports}
    argv = [a.replace(f"127.0.0.1:{old.ports['tcp']}",
                      f"127.0.0.1:{ports['tcp']}") for a in old.argv]
    if argv[-1] == str(old.ports["tcp"]):
        argv[-1] = str(ports["tcp"])
    i = Instance(old.key + "-hold", old.label, argv, ports,
                 os.path.dirname(old.log))
    i.error = old.error
    i.start()
    i.wait_ready(time.monotonic() + 10)
    time.sleep(0.2)
    return i


# ---------------------------------------------------------------- report


def med(vals):
    vals = [v for v in vals if v is not None]
    return (statistics.median(vals), min(vals), max(vals)) if vals else None


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    a = abs(v)
    if unit == "GB/s":
        s = f"{v:.2f}"
    elif a >= 10000:
        s = f"{v:,.0f}"
    elif a >= 100:
        s = f"{v:.0f}"
    elif a >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.2f}"
    return s


def summarize(w, res, inst):
    """Per server: median, min, max of the metric and of server CPU, and
    ratios to the reference."""
    rows = []
    metric = w["metric"]
    cpu_key = "cpu_us_per_mb" if w["mode"].startswith("bulk") else \
        "cpu_us_per_op"
    ref = med([c[metric] for c in res["cells"].get(w["ref"], [])])
    ref_cpu = med([c[cpu_key] for c in res["cells"].get(w["ref"], [])])
    ref_p99 = med([c["p99"] for c in res["cells"].get(w["ref"], [])])
    planned = 1 if w["mode"] == "hold" else res["runs"]
    for k in res["keys"]:
        cells = res["cells"][k]
        note = inst[k].note
        if inst[k].exits:
            note = (f"{note}; " if note else "") + \
                f"exited {len(inst[k].exits)} time(s) under load and was " \
                f"restarted (first: {inst[k].exits[0][:100]})"
        row = {"key": k, "label": inst[k].label, "runs": len(cells),
               "note": note, "fallback": inst[k].note,
               "error": res["errors"].get(k) if not cells else None}
        row["m"] = med([c[metric] for c in cells])
        row["cpu"] = med([c[cpu_key] for c in cells])
        row["p99"] = med([c["p99"] for c in cells])
        row["lost"] = sum(c["lost"] or 0 for c in cells)
        row["bad"] = sum((c["errors"] or 0) + (c["mismatches"] or 0)
                         for c in cells)
        row["ratio"] = (row["m"][0] / ref[0]
                        if row["m"] and ref and ref[0] else None)
        row["cpu_ratio"] = (row["cpu"][0] / ref_cpu[0]
                            if row["cpu"] and ref_cpu and ref_cpu[0]
                            else None)
        row["p99_ratio"] = (row["p99"][0] / ref_p99[0]
                            if row["p99"] and ref_p99 and ref_p99[0]
                            else None)
        row["planned"] = planned
        rows.append(row)
    return rows


def rng(m, unit=""):
    if not m:
        return "n/a"
    return f"{fmt(m[0], unit)} ({fmt(m[1], unit)} – {fmt(m[2], unit)})"


def table(w, rows):
    bulk = w["mode"].startswith("bulk")
    lat = w["id"] == "latency"
    mem = w["mode"] == "hold"
    refname = next((r["label"] for r in rows if r["key"] == w["ref"]),
                   "reference")
    out = [f"### {w['title']}\n",
           f"Ratios are against **{refname}** in the same run"
           f"{' (lower is better)' if w['metric'] in LOWER_IS_BETTER else ''}.\n"]
    if mem:
        hdr = ["server", "bytes per connection", "× ref"]
    elif lat:
        hdr = ["server", "p50 µs, median (min – max)", "× ref", "p99 µs",
               "× ref", "server CPU µs/msg"]
    else:
        cpu = "server CPU µs/MB" if bulk else \
            f"server CPU µs/{w['unit'].split('/')[0]}"
        hdr = ["server", f"{w['unit']}, median (min – max)", "× ref", cpu,
               "× ref"]
        if w["mode"] == "udp":
            hdr.append("lost")
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))
    for r in rows:
        label = r["label"] + (f" ¹" if r["note"] else "")
        if r["error"]:
            cells = [label, "n/a"] + ["n/a"] * (len(hdr) - 2)
            cells[1] = f"n/a: {r['error'][:80]}"
            out.append("| " + " | ".join(c.replace("|", "/")
                                         for c in cells) + " |")
            continue
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else \
            "— (reference 0)" if mem and r["m"] else "n/a"
        if mem:
            cells = [label, fmt(r["m"][0] if r["m"] else None), ratio]
        elif lat:
            cells = [label, rng(r["m"]), ratio, rng(r["p99"]),
                     f"{r['p99_ratio']:.2f}" if r["p99_ratio"] else "n/a",
                     fmt(r["cpu"][0] if r["cpu"] else None)]
        else:
            cells = [label, rng(r["m"], w["unit"]), ratio,
                     fmt(r["cpu"][0] if r["cpu"] else None),
                     f"{r['cpu_ratio']:.2f}" if r["cpu_ratio"] else "n/a"]
            if w["mode"] == "udp":
                cells.append(str(r["lost"]))
        if r["bad"]:
            cells[0] += f" (errors: {r['bad']})"
        if r["runs"] < r["planned"]:
            cells[0] += f" ({r['runs']} of {r['planned']} runs)"
        out.append("| " + " | ".join(cells) + " |")
    notes = [r for r in rows if r["note"]]
    for r in notes:
        out.append(f"\n¹ {r['label']}: {r['note']}.")
    return "\n".join(out) + "\n"


def row_of(rows, key):
    return next((r for r in rows if r["key"] == key and not r["error"]
                 and not r["fallback"]), None)


def check(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def ratio_to(rows, a, b, field="m"):
    ra, rb = row_of(rows, a), row_of(rows, b)
    if not ra or not rb or not ra[field] or not rb[field] or not rb[field][0]:
        return None
    return ra[field][0] / rb[field][0]


def targets(summ):
    """The issue's targets, each: (workload, target, measured, met)."""
    t = []

    def add(wid, text, val, ok, fmtv=lambda v: f"{v:.2f}×"):
        t.append((wid, text, "n/a" if val is None else fmtv(val),
                  check(None if val is None else ok(val))))

    e = summ.get("echo64")
    if e:
        for eng, ref in (("epoll", "epoll-echo"), ("io_uring", "uring-echo")):
            key = f"sock-{eng}-echo"
            want = 0.97 if eng == "epoll" else 1.0
            add("echo64", f"{eng} engine ≥ {want}× hand-written {eng}",
                ratio_to(e, key, ref), lambda v, w=want: v >= w)
            add("echo64", f"{eng} engine ≥ 1.0× libuv",
                ratio_to(e, key, "uv-echo"), lambda v: v >= 1.0)
            add("echo64", f"{eng} engine ≥ 1.4× libevent",
                ratio_to(e, key, "event-echo"), lambda v: v >= 1.4)
        for eng in ("epoll", "io_uring"):
            add("echo64", f"{eng} engine with its statistics ≥ 0.99× "
                "the same built without (-DSOCK_NO_STATS)",
                ratio_to(e, f"sock-{eng}-echo", f"sock-{eng}-echo-nostats"),
                lambda v: v >= 0.99)
        add("echo64", "epoll engine server CPU per message ≤ 1.05× "
            "hand-written epoll",
            ratio_to(e, "sock-epoll-echo", "epoll-echo", "cpu"),
            lambda v: v <= 1.05)
    e = summ.get("latency")
    if e:
        add("latency", "epoll engine p50 within 5% of hand-written epoll",
            ratio_to(e, "sock-epoll-echo", "epoll-echo"),
            lambda v: v <= 1.05)
        add("latency", "epoll engine p99 within 5% of hand-written epoll",
            ratio_to(e, "sock-epoll-echo", "epoll-echo", "p99"),
            lambda v: v <= 1.05)
        add("latency", "busy-poll mode p50 within 10% of the busy-polling "
            "reference",
            ratio_to(e, "sock-epoll-busy-echo", "epoll-busy-echo"),
            lambda v: v <= 1.10)
    e = summ.get("echo16k")
    if e:
        for eng in ("epoll", "io_uring"):
            add("echo16k", f"{eng} engine ≥ 0.97× hand-written epoll",
                ratio_to(e, f"sock-{eng}-echo", "epoll-echo"),
                lambda v: v >= 0.97)
    e = summ.get("time")
    if e:
        for eng in ("epoll", "io_uring"):
            add("time", f"{eng} engine server CPU per connection ≤ 1.1× "
                "hand-written",
                ratio_to(e, f"sock-{eng}-time", "epoll-time", "cpu"),
                lambda v: v <= 1.1)
    e = summ.get("udp")
    if e:
        for eng in ("epoll", "io_uring"):
            r = row_of(e, f"sock-{eng}-udp")
            v = ratio_to(e, f"sock-{eng}-udp", "mmsg-udp")
            add("udp", f"{eng} engine ≥ 1.0× the batched reference, no loss",
                v, lambda v, r=r: v >= 1.0 and r and r["lost"] == 0,
                lambda v, r=r: f"{v:.2f}×, {r['lost'] if r else '?'} lost")
    for wid, ref in (("discard", "epoll-discard"),
                     ("chargen", "epoll-chargen")):
        e = summ.get(wid)
        if e:
            for eng in ("epoll", "io_uring"):
                add(wid, f"{eng} engine ≥ 0.95× hand-written",
                    ratio_to(e, f"sock-{eng}-{wid}", ref),
                    lambda v: v >= 0.95)
    for wid, ref, want in (("tls-echo64", "tls-ref-echo", 0.95),
                           ("tls-bulk", "tls-ref-discard", 0.95)):
        e = summ.get(wid)
        if e:
            svc = "echo" if wid == "tls-echo64" else "discard"
            for eng in ("epoll", "io_uring"):
                add(wid, f"{eng} engine ≥ {want}× hand-written OpenSSL epoll",
                    ratio_to(e, f"sock-{eng}-tls-{svc}", ref),
                    lambda v, w=want: v >= w)
    e = summ.get("tls-handshakes")
    if e:
        for eng in ("epoll", "io_uring"):
            add("tls-handshakes", f"{eng} engine ≥ 1.0× openssl s_server",
                ratio_to(e, f"sock-{eng}-tls-echo", "s_server"),
                lambda v: v >= 1.0)
    e = summ.get("memory")
    if e:
        for eng in ("epoll", "io_uring"):
            r = row_of(e, f"sock-{eng}-echo")
            add("memory", f"{eng} engine ≤ 200 B per idle connection",
                r["m"][0] if r and r["m"] else None, lambda v: v <= 200,
                lambda v: f"{v:.0f} B")
    return t


# Chart columns: which server of each workload stands for each library.
CHART = [("libsock epoll", "sock-epoll-"), ("libsock io_uring", "sock-io_uring-"),
         ("hand-written io_uring", "uring-echo"), ("libuv", "uv-echo"),
         ("libevent", "event-echo"), ("Python asyncio", "asyncio-echo"),
         ("xinetd", "xinetd")]


def chart(summ, png, tmpdir):
    gp = shutil.which("gnuplot")
    if not gp:
        return "gnuplot is not installed: no chart"
    lines = []
    for w in WORKLOADS:
        rows = summ.get(w["id"])
        if not rows or w["mode"] == "hold":
            continue
        vals = []
        for _, prefix in CHART:
            r = next((r for r in rows if r["key"].startswith(prefix)
                      and not r["key"].endswith("busy-echo")
                      and not r["key"].endswith("-nostats")
                      and not r["error"] and not r["fallback"]), None)
            v = r["ratio"] if r else None
            if w["id"] == "time":
                # The load generator limits the rate here: the server's
                # CPU per connection is what tells servers apart.
                v = 1 / r["cpu_ratio"] if r and r["cpu_ratio"] else None
            elif v and w["metric"] in LOWER_IS_BETTER:
                v = 1 / v
            vals.append("?" if v is None else f"{v:.3f}")
        name = {"time": "time (1/CPU)", "latency": "latency (1/p50)"}.get(
            w["id"], w["id"])
        lines.append('"%s" %s' % (name, " ".join(vals)))
    data = os.path.join(tmpdir, "chart.dat")
    with open(data, "w") as f:
        f.write("\n".join(lines) + "\n")
    cols = " , ".join(
        f"'{data}' using {i + 2}:xtic(1) title '{name}'"
        for i, (name, _) in enumerate(CHART))
    script = f"""
set terminal pngcairo size 1100,520 font 'sans,10' noenhanced
set output '{png}'
set title 'Relative to the hand-written reference of each workload, same run (higher is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set datafile missing '?'
set yrange [0:*]
set grid ytics
set key outside right top vertical
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5
plot {cols}
"""
    sp = os.path.join(tmpdir, "chart.gp")
    with open(sp, "w") as f:
        f.write(script)
    r = subprocess.run([gp, sp], capture_output=True, text=True)
    if r.returncode:
        return "gnuplot failed: " + r.stderr.strip()[-200:]
    return None


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def first(argv):
        try:
            out = subprocess.run(argv, capture_output=True, text=True,
                                 timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not found"

    def pc(name):
        return first(["pkg-config", "--modversion", name])
    return [("CPU", f"{model}, {os.cpu_count()} cores"),
            ("kernel", f"{platform.system()} {platform.release()}"),
            ("compiler", first([os.environ.get("CC", "cc"), "--version"])),
            ("libraries", f"liburing {pc('liburing')}, libuv {pc('libuv')}, "
             f"libevent {pc('libevent')}"),
            ("others", f"Python {platform.python_version()}, "
             f"{first(['iperf3', '--version'])}, "
             f"xinetd {first(['xinetd', '-version'])}")]


def write_report(path, summ, inst, opts, sockbench, started_at, elapsed,
                 chart_err):
    out = ["# libsock performance\n",
           "Generated by `make bench` (bench/run.py) on "
           f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(started_at))}"
           f" in {elapsed:.0f} s; do not edit by hand.  "
           "Each server is pinned to CPU 0 and the load generator "
           "(`sock bench`) to CPU 1; each cell is the median of "
           f"{opts.runs} runs of {opts.duration} s after a "
           f"{opts.warmup} s warm-up (min – max in brackets), the servers "
           "of a workload alternating within each round.  Server CPU is "
           "utime+stime from /proc/PID/stat over the measured window "
           "(children included, so xinetd's forks count), divided by the "
           "operations.  Memory is VmRSS after opening "
           f"{HOLD_CONNS:,} idle connections minus before, divided by "
           f"{HOLD_CONNS:,}, in a fresh server process (one run).  "
           "Run-to-run drift on this kind of machine is a few percent: "
           "compare within one run.\n",
           "## Machine\n"]
    out += [f"- {k}: {v}" for k, v in machine()]
    out.append(f"- load average (1 min) at the start and the end: "
               f"{opts.load[0]} and {opts.load[1]}; the machine is shared "
               "with other work, and the min – max spreads show how much "
               "it interfered")
    out.append("\n## Targets (issue 5)\n")
    out.append("| workload | target | measured | |")
    out.append("|---|---|---|---|")
    for wid, text, val, ok in targets(summ):
        out.append(f"| {wid} | {text} | {val} | {ok} |")
    out.append("\n## Results\n")
    if chart_err:
        out.append(f"(chart: {chart_err})\n")
    else:
        out.append(f"![ratios]({os.path.basename(opts.png)})\n")
    for w in WORKLOADS:
        if w["id"] in summ:
            out.append(table(w, summ[w["id"]]))
    out.append("## Commands\n")
    out.append("Servers (PORT is a free port picked at run time; all "
               "bound to 127.0.0.1):\n")
    out.append("```")
    seen = set()
    for k, i in inst.items():
        if k.endswith("-hold") or k in seen:
            continue
        seen.add(k)
        argv = " ".join(i.argv)
        for p in set(i.ports.values()) | set(
                getattr(i, "service_ports", {}).values()):
            argv = argv.replace(str(p), "PORT")
        argv = argv.replace(opts.build + "/", "$BUILD/").replace(
            ROOT + "/", "")
        out.append(f"taskset -c {SERVER_CPU} {argv}")
    out.append("```\n")
    out.append("Load (one line per workload):\n")
    out.append("```")
    sb = " ".join(sockbench).replace(opts.build + "/", "$BUILD/")
    for w in WORKLOADS:
        if w["id"] not in summ:
            continue
        timing = "-d 2 -w 0" if w["mode"] == "hold" else \
            f"-d {opts.duration} -w {opts.warmup}"
        out.append(f"taskset -c {CLIENT_CPU} {sb} {w['mode']} "
                   f"{' '.join(w['args'])} {timing} --json "
                   f"--server-pid PID 127.0.0.1:PORT")
    if "discard" in summ or "chargen" in summ:
        out.append(f"taskset -c {CLIENT_CPU} iperf3 -c 127.0.0.1 -p PORT "
                   f"-t {opts.duration} -O {opts.warmup} -J [-R for chargen]")
    out.append("```\n")
    with open(path, "w") as f:
        f.write("\n".join(out))


# ---------------------------------------------------------------- main


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def find_sockbench(build):
    cmd = os.environ.get("SOCK_BENCH_CMD")
    candidates = [cmd.split()] if cmd else []
    candidates.append([os.path.join(build, "sock"), "bench"])
    for c in candidates:
        try:
            r = subprocess.run(c + ["--help"], capture_output=True, timeout=10)
            if r.returncode == 0:
                return c
        except OSError:
            continue
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/performance.md"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--only", default="")
    ap.add_argument("--quick", action="store_true",
                    default=os.environ.get("BENCH_QUICK") == "1")
    opts = ap.parse_args()
    opts.build = os.path.abspath(opts.build)
    opts.png = os.path.splitext(opts.out)[0] + ".png"
    if opts.quick:
        opts.runs, opts.duration, opts.warmup = 1, 0.3, 0.1
        opts.only = opts.only or "echo64"
    only = set(filter(None, opts.only.split(",")))
    sock = os.path.join(opts.build, "sock")
    sockbench = find_sockbench(opts.build)
    if not sockbench:
        log(f"bench: {sock} has no bench command (or is not built); set "
            "SOCK_BENCH_CMD to a load generator")
        return 1
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    raise_nofile()
    started_at = time.time()
    t0 = time.monotonic()
    opts.load = [loadavg(), None]
    tmpdir = tempfile.mkdtemp(prefix="sock-bench.")
    summ = {}
    try:
        inst = make_instances(opts.build, sock, tmpdir, opts.quick)
        eager = [i for i in inst.values() if not i.lazy]
        for i in eager:
            i.start()
        deadline = time.monotonic() + 10
        for i in eager:
            i.wait_ready(deadline)
        time.sleep(0.3)
        results = {}
        for w in WORKLOADS:
            if only and w["id"] not in only:
                continue
            if not any(k in inst for k in w["servers"]):
                continue
            log(f"bench: {w['title']} ({time.monotonic() - t0:.0f} s)")
            run_workload(w, inst, sockbench, opts, results)
            summ[w["id"]] = summarize(w, results[w["id"]], inst)
    except KeyboardInterrupt:
        log("bench: interrupted; stopping the servers")
        stop_all()
        return 130
    finally:
        stop_all()
    opts.load[1] = loadavg()
    chart_err = chart(summ, opts.png, tmpdir)
    write_report(opts.out, summ, inst, opts, sockbench, started_at,
                 time.monotonic() - t0, chart_err)
    shutil.rmtree(tmpdir, ignore_errors=True)
    log(f"bench: wrote {opts.out} in {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
