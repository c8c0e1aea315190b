#!/usr/bin/env python3
# soak.py -- make soak: sock serve on both engines under mixed load, its RSS and descriptors sampled each second
#
# usage: tests/soak/soak.py [--build DIR] [--seconds S] [--engines LIST]
#                           [--out DIR] [--chart PNG] [--leak BYTES]
#
# Starts one `sock serve` per engine (epoll and io_uring side by side,
# every service on 127.0.0.1 with ports the kernel picks) and drives the
# same schedule against both at once:
#
#   warm-up   load for W s (the server's pools, lists and heap reach the
#             size this load needs)
#   prime     the engines' fixed receive buffers are filled once, so that
#             the baseline holds all their pages (see prime())
#   quiet     the load stops; once every connection is gone (descriptors
#             back to the count at start) and 3 s more have passed, RSS
#             and descriptors are read: the BASELINE
#   cycles    N times: load for L s, then quiet, and read them again
#   stop      SIGTERM; each server must exit 0
#
# The load is tests/soak/load.py, one process per server, started anew for
# each load phase (so that when it exits every socket it had is closed).
# Every second the sampler writes each server's VmRSS, RssAnon and open
# descriptors (/proc/PID/status, /proc/PID/fd) to OUT/soak.csv.
#
# It passes when: every well-behaved client saw every byte right and no
# hostile client saw a promise broken (load.py's errors: 0); every kind of
# well-behaved client completed in every load phase; at every quiet point
# the descriptors came back to exactly the count at start within 30 s and
# VmRSS was at most baseline + RSS_MARGIN_KB; each server lived through
# the run and exited 0 on SIGTERM, with no sanitizer report in its log.
#
# Every process it starts (the servers, the load, gnuplot) is ended by
# PID, also on failure or Ctrl-C.  The whole run is bounded: each phase
# has a deadline, and the wait for quiet is at most 30 s.

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVICES = ["echo", "discard", "daytime", "chargen", "time", "clients",
            "chat"]
LISTENERS = 12  # five services on TCP and UDP, two on TCP only
IDLE_TIMEOUT = 15
QUIET_WAIT = 30  # liveness bound for the connections to be gone
SETTLE = 3
QUIET_BUDGET = 6  # what a quiet point takes, for the schedule
# How far above the baseline RSS may be at a quiet point.  Small blocks
# that glibc's malloc keeps after they are freed (the heap's middle, its
# top below the trim threshold) move RSS from one quiet point to the next
# with no leak at all: up to +192 KiB in 60 s runs, +256 KiB in 10
# minutes, all in the heap, its bytes in use flat.  512 KiB is 128 pages,
# twice the most seen.  A leak of L bytes per connection over the N made
# after the baseline adds L * N: a full run makes over 400,000 per server
# (L >= 1.3 fails), CI's 60 s about 35,000 (L >= 15); every lost malloc
# costs at least 32 bytes.  The report prints the floor of each run.
RSS_MARGIN_KB = 512

started = []  # every Popen of ours, ended by PID at the end


def log(msg):
    print(f"soak: {msg}", file=sys.stderr, flush=True)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def end(p, wait=5):
    """SIGTERM to p's PID, SIGKILL if it has not exited after wait s."""
    if p.poll() is not None:
        return p.returncode
    p.send_signal(signal.SIGCONT)  # in case priming left it stopped
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=5)
        return None


def end_all():
    for p in started:
        try:
            end(p, 2)
        except (OSError, subprocess.TimeoutExpired):
            pass


# ---------------------------------------------------------------- servers


class Server:
    def __init__(self, engine, sock, out, leak=None):
        self.engine = engine
        self.log_path = os.path.join(out, f"serve-{engine}.log")
        argv = [sock, "serve", "--quiet", "--engine", engine,
                "--max-per-source", "256", "--idle-timeout",
                str(IDLE_TIMEOUT)] + [f"{s}=127.0.0.1:0" for s in SERVICES]
        self.argv = argv
        env = dict(os.environ)
        if leak:
            env["LD_PRELOAD"], env["SOAK_LEAK_BYTES"] = leak
        with open(self.log_path, "wb") as f:
            self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=f,
                                      env=env)
        started.append(self.p)
        self.ports = {}
        self.start_fds = None
        self.baseline = None
        self.quiets = []
        self.conns_measured = 0  # connections after the baseline

    def wait_listening(self):
        end_at = time.monotonic() + 10
        while time.monotonic() < end_at and self.p.poll() is None:
            lines = open(self.log_path).read().splitlines()
            if sum(" listen " in l for l in lines) >= LISTENERS:
                break
            time.sleep(0.05)
        lines = open(self.log_path).read().splitlines()
        engine = None
        for l in lines:
            f = l.split()
            if len(f) >= 3 and f[1] == "engine":
                engine = f[2]
            if len(f) >= 5 and f[1] == "listen":
                port = int(f[4].rsplit(":", 1)[1])
                self.ports.setdefault(f[2], {})[f[3]] = port
        if sum(len(v) for v in self.ports.values()) < LISTENERS:
            raise RuntimeError(f"{self.engine} server did not start:\n" +
                               "\n".join(lines[-10:]))
        if engine != self.engine:
            raise RuntimeError(f"asked for the {self.engine} engine, the "
                               f"server runs {engine}")
        time.sleep(0.2)
        self.start_fds = fds(self.p.pid)

    def alive(self):
        return self.p.poll() is None


def status(pid):
    """VmRSS, RssAnon (KiB) of pid."""
    rss = anon = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1])
    return rss, anon


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def save_smaps(s, n):
    """Each mapping's resident KiB at quiet point n, into OUT: when RSS
    grew, the diff of two of these files says where."""
    out = []
    with open(f"/proc/{s.p.pid}/smaps") as f:
        for line in f:
            field = line.split()
            if "-" in field[0] and not field[0].endswith(":"):
                name = field[5] if len(field) > 5 else "[anon]"
                where = f"{field[0]} {name}"
            elif field[0] == "Rss:":
                out.append(f"{where} {field[1]}")
    with open(os.path.join(os.path.dirname(s.log_path),
                           f"smaps-{s.engine}-{n}.txt"), "w") as f:
        f.write("\n".join(out) + "\n")


# ---------------------------------------------------------------- sampling


class Sampler(threading.Thread):
    """One row a second: time, phase, and each server's figures."""

    def __init__(self, servers, csv_path):
        super().__init__(daemon=True)
        self.servers = servers
        self.phase = "start"
        self.rows = []
        self.stopping = threading.Event()
        self.t0 = time.monotonic()
        self.csv = open(csv_path, "w")
        cols = ["t", "phase", "load"]
        for s in servers:
            cols += [f"{s.engine}_rss_kb", f"{s.engine}_anon_kb",
                     f"{s.engine}_fds"]
        self.csv.write(",".join(cols) + "\n")

    def sample(self):
        row = {"t": time.monotonic() - self.t0, "phase": self.phase}
        for s in self.servers:
            try:
                rss, anon = status(s.p.pid)
                row[s.engine] = (rss, anon, fds(s.p.pid))
            except OSError:
                row[s.engine] = None
        return row

    def run(self):
        n = 0
        while not self.stopping.is_set():
            row = self.sample()
            self.rows.append(row)
            cells = [f"{row['t']:.1f}", row["phase"],
                     "1" if row["phase"] in ("warmup", "load") else "0"]
            for s in self.servers:
                v = row[s.engine]
                cells += [str(x) for x in v] if v else ["", "", ""]
            self.csv.write(",".join(cells) + "\n")
            self.csv.flush()
            n += 1
            self.stopping.wait(max(0.0, self.t0 + n - time.monotonic()))
        self.csv.close()

    def peak(self, engine, after=0.0):
        vals = [r[engine] for r in self.rows if r[engine] and r["t"] >= after]
        if not vals:
            return None, None
        return max(v[0] for v in vals), max(v[2] for v in vals)


# ---------------------------------------------------------------- priming

BIG_DGRAM = 65507  # the largest UDP payload over IPv4


def stopped(pid, state):
    """Wait until pid is stopped (state True) or running again."""
    end_at = time.monotonic() + 2
    while time.monotonic() < end_at:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        if (st in "Tt") == state:
            return True
        time.sleep(0.001)
    return False


def echo_dgrams(u, sends, pid=None):
    """Send the datagrams (to echo) and read every reply; with pid, send
    them while the server is stopped, so that they wait in its socket
    and one receive takes them all.  Whether every reply came."""
    if pid:
        os.kill(pid, signal.SIGSTOP)
    try:
        if pid and not stopped(pid, True):
            return False
        for d in sends:
            u.send(d)
    finally:
        if pid:
            os.kill(pid, signal.SIGCONT)
    try:
        for d in sends:
            if len(u.recv(70000)) != len(d):
                return False
    except OSError:  # a timeout: a datagram was dropped
        return False
    return True


def prime(s):
    """Fault in the pages of the engines' fixed receive buffers.

    Both engines set aside receive memory when they start and touch its
    pages only as data lands there: epoll's recvmmsg batch (32 slots of
    64 KiB: slot i is written only when i datagrams arrived before it
    in one batch), io_uring's datagram buffers (128 of 64 KiB, taken in
    turn) and stream buffers (1024 of 16 KiB, in turn).  Under random
    load those pages fill in slowly, over many minutes, and RSS creeps up
    with no leak.  Done once before the baseline, every page is in it,
    and growth after it is growth.
    """
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    u.connect(("127.0.0.1", s.ports["echo"]["udp"]))
    big = bytes(BIG_DGRAM)
    try:
        for i in range(33):
            sends = [b"x"] * i + [big] if i < 32 else [big, big]
            if not any(echo_dgrams(u, sends, s.p.pid) for _ in range(3)):
                raise RuntimeError(f"{s.engine}: priming batch {i} failed")
        for _ in range(256):
            if not echo_dgrams(u, [big]):
                raise RuntimeError(f"{s.engine}: priming datagram lost")
    finally:
        u.close()
    t = socket.create_connection(("127.0.0.1", s.ports["echo"]["tcp"]), 10)
    try:
        t.settimeout(10)
        data = bytes(32 << 20)
        sender = threading.Thread(target=lambda: (
            t.sendall(data), t.shutdown(socket.SHUT_WR)), daemon=True)
        sender.start()
        n = 0
        while True:
            b = t.recv(1 << 20)
            if not b:
                break
            n += len(b)
        sender.join(10)
        if n != len(data):
            raise RuntimeError(f"{s.engine}: priming echo returned {n}")
    finally:
        t.close()


# ---------------------------------------------------------------- phases


def run_load(servers, seconds, seed):
    """The load on every server for seconds: per server, load.py's mixed
    clients and its churn of short connections, two processes; their
    figures, merged per server."""
    procs = []
    for i, s in enumerate(servers):
        for j, extra in enumerate(([], ["--churn"])):
            p = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "load.py"), "--ports",
                 json.dumps(s.ports), "--seconds", f"{seconds:.1f}",
                 "--idle-timeout", str(IDLE_TIMEOUT), "--seed",
                 str(seed * 100 + i * 10 + j)] + extra,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                preexec_fn=raise_nofile)
            started.append(p)
            procs.append((s, p))
    results = {s.engine: {"seconds": 0, "kinds": {}, "errors": []}
               for s in servers}
    for s, p in procs:
        try:
            out, _ = p.communicate(timeout=seconds + 120)
        except subprocess.TimeoutExpired:
            end(p)
            raise RuntimeError(f"the load on {s.engine} did not end")
        if p.returncode != 0:
            raise RuntimeError(f"the load on {s.engine} failed "
                               f"(exit {p.returncode})")
        r, got = results[s.engine], json.loads(out)
        r["seconds"] = max(r["seconds"], got["seconds"])
        r["kinds"].update(got["kinds"])
        r["errors"] += got["errors"]
    return [results[s.engine] for s in servers]


def quiet(servers, sampler, what):
    """Wait for every connection to be gone, settle, read the figures."""
    sampler.phase = "quiet"
    t0 = time.monotonic()
    problems = []
    while time.monotonic() - t0 < QUIET_WAIT:
        if all(fds(s.p.pid) == s.start_fds for s in servers if s.alive()):
            break
        time.sleep(0.25)
    gone = time.monotonic() - t0
    time.sleep(SETTLE)
    for s in servers:
        if not s.alive():
            problems.append(f"{s.engine}: the server exited "
                            f"({s.p.returncode}) before {what}")
            continue
        rss, anon = status(s.p.pid)
        n = fds(s.p.pid)
        save_smaps(s, len(s.quiets))
        point = {"what": what, "rss_kb": rss, "anon_kb": anon, "fds": n,
                 "seconds_to_quiet": round(gone, 1)}
        s.quiets.append(point)
        if s.baseline is None:
            s.baseline = point
        if n != s.start_fds:
            problems.append(f"{s.engine}: {n} descriptors {QUIET_WAIT} s "
                            f"after {what}, {s.start_fds} at start")
        if rss > s.baseline["rss_kb"] + RSS_MARGIN_KB:
            problems.append(
                f"{s.engine}: RSS {rss} KiB after {what}, baseline "
                f"{s.baseline['rss_kb']} KiB + margin {RSS_MARGIN_KB} KiB")
    return problems


def add_counts(total, result):
    for k, v in result["kinds"].items():
        t = total.setdefault(k, dict.fromkeys(v, 0))
        for f, n in v.items():
            t[f] = t.get(f, 0) + n


WELL_KINDS = ["echo_tcp", "echo_udp", "discard_tcp", "discard_udp",
              "daytime_tcp", "daytime_udp", "time_tcp", "time_udp",
              "chargen_tcp", "chargen_udp", "clients", "chat", "churn_time",
              "churn_daytime", "churn_echo", "churn_discard"]


def check_load(servers, results, what):
    problems = []
    for s, r in zip(servers, results):
        for e in r["errors"]:
            problems.append(f"{s.engine} {what}: {e}")
        n = sum(k["errors"] for k in r["kinds"].values())
        if n > len(r["errors"]):
            problems.append(f"{s.engine} {what}: {n} errors in all")
        for k in WELL_KINDS:
            if r["kinds"].get(k, {}).get("ok", 0) == 0:
                problems.append(f"{s.engine} {what}: no {k} client "
                                "completed")
    return problems


def schedule(total):
    cycles = max(1, int(total // 60))
    usable = total - QUIET_BUDGET * (cycles + 1)
    warm = min(30.0, max(10.0, usable / 6))
    return warm, cycles, (usable - warm) / cycles


# ---------------------------------------------------------------- report


def log_lines(path):
    """Counts of the log's limit and error lines by kind; sanitizer hits."""
    counts, bad = {}, []
    with open(path, errors="replace") as f:
        for line in f:
            f_ = line.split()
            if len(f_) >= 4 and f_[1] in ("limit", "error"):
                key = f"{f_[1]} {f_[2]} {f_[3]}"
                counts[key] = counts.get(key, 0) + 1
            if "Sanitizer" in line or "runtime error:" in line:
                bad.append(line.strip())
    return counts, bad


def report(servers, sampler, totals, warm_end, duration, problems, args):
    out = {"seconds": round(duration, 1), "engines": {}, "problems": problems,
           "rss_margin_kb": RSS_MARGIN_KB}
    print("\n## soak: summary\n")
    print(f"duration {duration:.0f} s, engines "
          f"{', '.join(s.engine for s in servers)}, "
          f"RSS margin {RSS_MARGIN_KB} KiB\n")
    for s in servers:
        t = totals[s.engine]
        conns = sum(k["conns"] for k in t.values())
        dgrams = sum(k["dgrams"] for k in t.values())
        errs = sum(k["errors"] for k in t.values())
        peak_rss, peak_fds = sampler.peak(s.engine, warm_end)
        last = s.quiets[-1] if s.quiets else None
        m = s.conns_measured
        floor = RSS_MARGIN_KB * 1024 / m if m else None
        e = {"connections": conns, "datagrams": dgrams, "errors": errs,
             "start_fds": s.start_fds, "baseline": s.baseline, "end": last,
             "peak_rss_kb": peak_rss, "peak_fds": peak_fds,
             "quiets": s.quiets, "kinds": t,
             "connections_after_baseline": m,
             "leak_floor_bytes_per_conn": floor}
        out["engines"][s.engine] = e
        print(f"### {s.engine}\n")
        print("| client kind | completed | errors | connections | "
              "datagrams | retries | bytes checked |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for k in sorted(t):
            v = t[k]
            print(f"| {k} | {v['ok']} | {v['errors']} | {v['conns']} | "
                  f"{v['dgrams']} | {v['retries']} | {v['bytes']} |")
        print(f"| all | | {errs} | {conns} | {dgrams} | | |\n")
        if s.baseline and last:
            b = s.baseline
            print("| | RSS KiB | RssAnon KiB | descriptors |")
            print("|---|---:|---:|---:|")
            print(f"| at start | | | {s.start_fds} |")
            print(f"| baseline (after warm-up, quiet) | {b['rss_kb']} | "
                  f"{b['anon_kb']} | {b['fds']} |")
            print(f"| peak (after warm-up, under load) | {peak_rss} | | "
                  f"{peak_fds} |")
            print(f"| end (last quiet point) | {last['rss_kb']} | "
                  f"{last['anon_kb']} | {last['fds']} |\n")
            print("quiet points (RSS KiB / descriptors): " + ", ".join(
                f"{q['rss_kb']}/{q['fds']}" for q in s.quiets))
        if floor:
            print(f"{m} connections after the baseline: a leak of "
                  f"{floor:.2f} bytes or more per connection would have "
                  f"passed the margin\n")
        counts, _ = log_lines(s.log_path)
        if counts:
            print("log: " + ", ".join(f"{k} x{n}" for k, n in
                                      sorted(counts.items())) + "\n")
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(out, f, indent=1)


def chart(out, png):
    p = subprocess.Popen([os.path.join(HERE, "chart.sh"),
                          os.path.join(out, "soak.csv"), png,
                          os.path.join(out, "summary.json")])
    started.append(p)
    try:
        return p.wait(timeout=120) == 0
    except subprocess.TimeoutExpired:
        end(p)
        return False


# ---------------------------------------------------------------- main


def build_leak(args):
    """The preloaded close() of leak.c, which loses args.leak bytes per
    connection: the proof that the RSS check sees such a leak."""
    so = os.path.join(args.out, "leak.so")
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", so,
                        os.path.join(HERE, "leak.c"), "-ldl"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        raise RuntimeError("cannot build leak.so: " + r.stderr[-300:])
    log(f"a leak on purpose: {args.leak} bytes per connection")
    return so, str(args.leak)


def soak(args):
    os.makedirs(args.out, exist_ok=True)
    sock = os.path.join(args.build, "sock")
    warm, cycles, load = schedule(args.seconds)
    log(f"{args.seconds:.0f} s: warm-up {warm:.0f} s, {cycles} cycle(s) of "
        f"{load:.0f} s load, quiet after each; engines {args.engines}")
    raise_nofile()
    leak = build_leak(args) if args.leak else None
    servers = [Server(e, sock, args.out, leak)
               for e in args.engines.split(",")]
    for s in servers:
        s.wait_listening()
    sampler = Sampler(servers, os.path.join(args.out, "soak.csv"))
    sampler.start()
    problems = []
    totals = {s.engine: {} for s in servers}
    t0 = time.monotonic()
    try:
        for i in range(cycles + 1):
            what = "warm-up" if i == 0 else f"load {i}"
            sampler.phase = "warmup" if i == 0 else "load"
            secs = warm if i == 0 else load
            log(f"{what}: {secs:.0f} s")
            results = run_load(servers, secs, i + 1)
            for s, r in zip(servers, results):
                add_counts(totals[s.engine], r)
                if i > 0:
                    s.conns_measured += sum(
                        k["conns"] for k in r["kinds"].values())
            problems += check_load(servers, results, what)
            if i == 0:
                sampler.phase = "prime"
                for s in servers:
                    prime(s)
            problems += quiet(servers, sampler, what)
            if i == 0:
                warm_end = sampler.rows[-1]["t"]
            for s, r in zip(servers, results):
                q = s.quiets[-1] if s.quiets else {}
                log(f"  {s.engine}: load ran {r['seconds']:.1f} s, "
                    f"then RSS {q.get('rss_kb')} KiB, {q.get('fds')} "
                    f"descriptors ({q.get('seconds_to_quiet')} s to quiet)")
    finally:
        sampler.phase = "stop"
        time.sleep(1.0)
        sampler.stopping.set()
        sampler.join(5)
    for s in servers:
        rc = end(s.p, 10)
        if rc != 0:
            problems.append(f"{s.engine}: exit status {rc} after SIGTERM")
        _, bad = log_lines(s.log_path)
        problems += [f"{s.engine} log: {b}" for b in bad[:5]]
    duration = time.monotonic() - t0
    report(servers, sampler, totals, warm_end, duration, problems, args)
    if args.chart:
        if not chart(args.out, args.chart):
            problems.append("no chart")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--engines", default="epoll,io_uring")
    ap.add_argument("--out", default=None)
    ap.add_argument("--chart", default=None)
    ap.add_argument("--leak", type=int, default=0,
                    help="lose this many bytes per connection on purpose "
                    "(tests/soak/leak.c): the soak must fail")
    args = ap.parse_args()
    if args.seconds < 30:
        ap.error("--seconds: at least 30")
    args.out = args.out or os.path.join(args.build, "soak")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        problems = soak(args)
    except (RuntimeError, OSError, ValueError) as e:
        problems = [str(e)]
    except KeyboardInterrupt:
        problems = ["interrupted"]
    finally:
        end_all()
    if problems:
        print("\nsoak: FAILED", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print("soak: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
