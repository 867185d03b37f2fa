#!/usr/bin/env python3
"""run_bench — the side-by-side benchmark of issue 7 (docs/design.md §9): the same SMTP STARTTLS workload,
in the same run, through the direct path (client -> `dsproxy sink` terminating STARTTLS itself),
dsproxy (STARTTLS terminated, plain text to the sink), stunnel (`protocol = smtp`) and nginx's
mail proxy (`starttls on`), all on loopback and configured here in a temporary directory.

Figures per target: sessions/s and p50/p99 session latency under load, p50 of a single client,
CPU microseconds per session of the target's own processes (utime+stime from /proc), CPU with an
RSA-2048 certificate, KiB of RSS per idle TLS session (fresh process; N = 2,000 and 10,000), MB/s
of a 20 MiB message, and the crypto floor from `openssl speed`. Prints one markdown table with the
ratios and the docs/design.md §9 targets, and writes it to --out (bench/RESULTS.md by default).

Usage: scripts/bench.sh [options]   (builds, raises the fd limit, runs this)
       python3 bench/run_bench.py --dsproxy build/proxy/dsproxy --load build/bench/smtp_load [--quick]
Only ratios within one run mean anything on a shared machine; phases are interleaved across the
targets so that a neighbour's compile job hurts them alike.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_targets as bt  # noqa: E402
from bench_report import fmt, render  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RSA_SIGALGS = "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pkcs1_sha256"


def crypto_floor() -> dict:
    """µs of one full handshake's asymmetric work on the server, from `openssl speed`: two X25519
    operations (ephemeral key and shared secret) and one signature (ECDSA P-256 or RSA-2048)."""
    out = subprocess.run(["openssl", "speed", "-seconds", "2", "ecdhx25519", "ecdsap256", "rsa2048"],
                         capture_output=True, text=True, timeout=120).stdout
    x25519 = float(re.search(r"ecdh \(X25519\)\s+\S+s\s+([\d.]+)", out).group(1))
    ecdsa = re.search(r"ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    rsa = re.search(r"rsa 2048 bits\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    x = 1e6 / x25519
    return {"x25519_us": x, "ecdsa_sign_us": 1e6 / float(ecdsa.group(1)), "rsa_sign_us": 1e6 / float(rsa.group(1)),
            "ecdsa": 2 * x + 1e6 / float(ecdsa.group(1)), "rsa": 2 * x + 1e6 / float(rsa.group(1))}


class Target:
    """A target of the benchmark: a name, how to start it, and the processes whose CPU counts."""

    def __init__(self, name: str, start):
        self.name, self._start, self.obj = name, start, None
        self.results = {}
        self.failures = {}

    def start(self):
        self.obj = self._start()
        return self

    def stop(self):
        if self.obj is not None:
            (self.obj.stop if hasattr(self.obj, "stop") else self.obj.process.stop)()
            self.obj = None

    @property
    def port(self):
        return self.obj.port if not isinstance(self.obj, bt.Sink) else self.obj.port

    @property
    def process(self):
        return self.obj.process

    def note_failures(self, phase: str, result: dict):
        for reason, n in result.get("failures", {}).items():
            self.failures[f"{phase}: {reason}"] = self.failures.get(f"{phase}: {reason}", 0) + n


def load(args, port: int, extra: list, stdin=None, timeout=900) -> dict:
    cmd = [str(args.load), "--connect", f"127.0.0.1:{port}", *[str(e) for e in extra]]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"smtp_load printed no result (exit {p.returncode}): {p.stderr[-2000:]}")
    return json.loads(lines[-1])


def median(values):
    v = sorted(x for x in values if x is not None)
    return v[len(v) // 2] if v else None


def combine(runs: list) -> dict:
    """Runs of one target interleaved with the other targets' runs, as one result: counts and CPU
    summed, rates over the summed time, latencies and MB/s as the median of the runs."""
    out = {"ok": sum(r["ok"] for r in runs), "failed": sum(r["failed"] for r in runs), "failures": {},
           "elapsed_s": sum(r["elapsed_s"] for r in runs), "tickets": sum(r.get("tickets", 0) for r in runs),
           "runs": len(runs)}
    for r in runs:
        for k, n in r.get("failures", {}).items():
            out["failures"][k] = out["failures"].get(k, 0) + n
    out["sessions_per_s"] = out["ok"] / out["elapsed_s"] if out["elapsed_s"] else 0
    out["latency_us"] = {q: median(r["latency_us"][q] for r in runs if r["ok"]) or 0 for q in ("p50", "p99")}
    out["message_mb_per_s"] = median(r["message_mb_per_s"] for r in runs if r["ok"])
    if all("cpu_s" in r for r in runs):
        out["cpu_s"] = sum(r["cpu_s"] for r in runs)
        out["sink_cpu_s"] = sum(r["sink_cpu_s"] for r in runs)
        out["cpu_us_per_session"] = out["cpu_s"] * 1e6 / out["ok"] if out["ok"] else None
    return out


def measured(args, target: Target, sink, extra: list) -> dict:
    """One load run with the CPU of the target's processes (and of the plain sink) around it."""
    cpu0 = target.process.cpu()
    sink0 = sink.process.cpu() if sink else 0
    r = load(args, target.port, extra)
    r["cpu_s"] = target.process.cpu() - cpu0
    r["sink_cpu_s"] = (sink.process.cpu() - sink0) if sink else 0
    r["cpu_us_per_session"] = r["cpu_s"] * 1e6 / r["ok"] if r["ok"] else None
    return r


def perf_profile(args, target: Target, work: Path, common: list) -> str:
    """`perf record` on the target's process during one load run: the split by library and the
    top functions by self time (kernel symbols included: the syscalls are a large share)."""
    data = work / "dsproxy.perf"
    rec = subprocess.Popen(["perf", "record", "-F", "1999", "-o", str(data), "-p", str(target.process.pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    load(args, target.port, ["--sessions", args.sessions // args.rounds, "--concurrency", args.concurrency,
                             "--message-size", args.message_size, *common])
    rec.send_signal(signal.SIGINT)
    rec.wait(60)

    def report(*sort):
        out = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--stdio", "-g", "none",
                              "--percent-limit", "0.7", "--sort", *sort], capture_output=True, text=True).stdout
        return [l.rstrip()[:160] for l in out.splitlines() if l.strip() and not l.startswith("#")]

    return "\n".join(["By library:", *report("dso")[:8], "", "Top functions (self):", *report("dso,sym")[:25]])


def idle_run(args, target: Target, n: int) -> dict:
    """A fresh target, its RSS, N held TLS sessions, its RSS again."""
    target.stop()
    target.start()
    time.sleep(0.5)
    before = target.process.rss()
    cmd = [str(args.load), "--connect", f"127.0.0.1:{target.port}", "--idle", str(n), "--concurrency", "64",
           "--threads", str(args.load_threads), "--timeout", "120"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = p.stdout.readline()
    m = re.match(r"ready held=(\d+) failed=(\d+)", ready)
    time.sleep(1.0)  # let the last handshakes' transient buffers go
    after = target.process.rss()
    p.stdin.write("\n")
    p.stdin.flush()
    out, err = p.communicate(timeout=300)
    lines = [l for l in out.splitlines() if l.startswith("{")]
    result = json.loads(lines[-1]) if lines else {"failures": {"no result": 1}, "ok": 0}
    held = int(m.group(1)) if m else 0
    result["n"], result["held"] = n, held
    result["kib_per_session"] = (after - before) / held if held else None
    result["rss_before_kib"], result["rss_after_kib"] = before, after
    target.stop()
    target.start()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsproxy", type=Path, default=ROOT / "build/proxy/dsproxy")
    ap.add_argument("--load", type=Path, default=ROOT / "build/bench/smtp_load")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/RESULTS.md")
    ap.add_argument("--sessions", type=int, default=4000, help="sessions per throughput/CPU run")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the load and latency phases")
    ap.add_argument("--load-threads", type=int, default=2, help="generator threads")
    ap.add_argument("--latency-sessions", type=int, default=300,
                    help="sessions of the single-client run (in rounds, each at most 5 s)")
    ap.add_argument("--big-sessions", type=int, default=9, help="rounds of one 20 MiB session per target")
    ap.add_argument("--big-size", type=int, default=20 * 1024 * 1024)
    ap.add_argument("--message-size", type=int, default=10 * 1024)
    ap.add_argument("--idle", default="2000,10000", help="idle session counts, comma-separated ('' to skip)")
    ap.add_argument("--dsproxy-threads", type=int, default=2, help="I/O threads of the second dsproxy row (0: none)")
    ap.add_argument("--targets", default="direct,dsproxy,stunnel,nginx")
    ap.add_argument("--no-rsa", action="store_true", help="skip the RSA-2048 certificate runs")
    ap.add_argument("--quick", action="store_true", help="tiny counts: a smoke run of a few seconds")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--perf", action="store_true", help="also profile dsproxy with perf record (linux-perf)")
    args = ap.parse_args()
    if args.quick:
        args.sessions, args.latency_sessions, args.big_sessions, args.idle, args.rounds = 200, 30, 1, "200", 1
        args.big_size = 2 * 1024 * 1024
    for p in (args.dsproxy, args.load):
        if not p.exists():
            sys.exit(f"run_bench: {p} not found; build first (scripts/bench.sh does)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    idle_sizes = [int(v) for v in args.idle.split(",") if v.strip()]
    # Each process needs one descriptor per idle session (stunnel two: it connects to the sink too).
    if idle_sizes and max(idle_sizes) + 500 > hard:
        print(f"run_bench: warning: the fd limit {hard} is too low for {max(idle_sizes):,} idle sessions "
              f"(scripts/bench.sh raises it)", file=sys.stderr)
    started = time.monotonic()
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    work = Path(tempfile.mkdtemp(prefix="dsproxy-bench-", dir=base))
    wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
    targets, sinks = {}, []

    def log(text):
        print(f"[{time.monotonic() - started:6.1f}s] {text}", file=sys.stderr, flush=True)

    try:
        log(f"work directory {work}; crypto floor from openssl speed")
        floor = crypto_floor()
        pki = bt.Pki(work / "pki")
        sink = bt.Sink(args.dsproxy, work, "plain")
        sinks.append(sink)
        starters = {
            "direct": ("direct STARTTLS sink", lambda: bt.Sink(args.dsproxy, work, "tls", cert=pki.ecdsa)),
            "dsproxy": ("dsproxy, 1 I/O thread", lambda: bt.Dsproxy(args.dsproxy, work, pki, sink.port)),
            "stunnel": ("stunnel", lambda: bt.Stunnel(work, pki, sink.port)),
            "nginx": ("nginx mail", lambda: bt.Nginx(work, pki, sink.port)),
        }
        for k in wanted:
            targets[k] = Target(starters[k][0], starters[k][1]).start()
        if "dsproxy" in wanted and args.dsproxy_threads > 1:
            t = Target(f"dsproxy, {args.dsproxy_threads} I/O threads",
                       lambda: bt.Dsproxy(args.dsproxy, work, pki, sink.port, threads=args.dsproxy_threads,
                                          name="dsproxy-2"))
            targets["dsproxy-2"] = t.start()
        active = {k: t for k, t in targets.items() if not t.results.get("unavailable")}
        common = ["--threads", args.load_threads, "--timeout", 120]

        # Phase 1: throughput and CPU per session (10 KiB message), after a warm-up; the runs of
        # the targets are interleaved (args.rounds), so that the machine's other load hits all alike.
        runs = {k: [] for k in active}
        for k, t in active.items():
            load(args, t.port, ["--sessions", max(50, args.sessions // 20), "--concurrency", args.concurrency, *common])
        for rnd in range(args.rounds):
            for k, t in active.items():
                log(f"{t.name}: round {rnd + 1}/{args.rounds}, {args.sessions // args.rounds:,} sessions "
                    f"at concurrency {args.concurrency}")
                r = measured(args, t, None if k == "direct" else sink,
                             ["--sessions", args.sessions // args.rounds, "--concurrency", args.concurrency,
                              "--message-size", args.message_size, *common])
                runs[k].append(r)
                sink.clean()
                log(f"  {r['sessions_per_s']:,.0f} sessions/s, {fmt(r['cpu_us_per_session'])} µs CPU/session, "
                    f"failures {r['failed']}")
        for k, t in active.items():
            t.results["load"] = combine(runs[k])
            t.note_failures("load", t.results["load"])
        profile = None
        if args.perf and "dsproxy" in active:
            log("dsproxy: the same load under perf record")
            profile = perf_profile(args, active["dsproxy"], work, common)
            sink.clean()
        # Phase 2: one client's latency, in rounds (each at most a few seconds: stunnel's sessions
        # take ~200 ms each).
        single = {k: t for k, t in active.items() if k != "dsproxy-2"}
        runs = {k: [] for k in single}
        for rnd in range(args.rounds):
            for k, t in single.items():
                log(f"{t.name}: round {rnd + 1}/{args.rounds}, one client")
                runs[k].append(load(args, t.port, ["--sessions", max(1, args.latency_sessions // args.rounds),
                                                   "--concurrency", 1, "--threads", 1, "--duration", 5,
                                                   "--message-size", args.message_size]))
                sink.clean()
        for k, t in single.items():
            t.results["latency"] = combine(runs[k])
            t.note_failures("latency", t.results["latency"])
        # Phase 3: a 20 MiB message, one session per target per round.
        runs = {k: [] for k in single}
        for rnd in range(args.big_sessions):
            for k, t in single.items():
                log(f"{t.name}: round {rnd + 1}/{args.big_sessions}, a {args.big_size / 1048576:.0f} MiB message")
                runs[k].append(load(args, t.port, ["--sessions", 1, "--concurrency", 1, "--threads", 1,
                                                   "--message-size", args.big_size, "--timeout", 300]))
                sink.clean()
                if k == "direct":
                    t.obj.clean()
        for k, t in single.items():
            t.results["big"] = combine(runs[k])
            t.note_failures("big", t.results["big"])
        # Phase 4: CPU per session with an RSA-2048 certificate (clients offering RSA only).
        if not args.no_rsa:
            rsa_targets = {k: active[k] for k in ("dsproxy", "nginx") if k in active}
            runs = {k: [] for k in rsa_targets}
            for rnd in range(args.rounds):
                for k, t in rsa_targets.items():
                    n = max(50, args.sessions // 2 // args.rounds)
                    log(f"{t.name}: round {rnd + 1}/{args.rounds}, RSA-2048 certificate, {n:,} sessions")
                    runs[k].append(measured(args, t, sink, ["--sessions", n, "--concurrency", args.concurrency,
                                                            "--sigalgs", RSA_SIGALGS, *common]))
                    sink.clean()
            for k, t in rsa_targets.items():
                t.results["rsa"] = combine(runs[k])
                t.note_failures("rsa", t.results["rsa"])
        # Phase 5: memory per idle TLS session, each on a fresh process.
        for n in idle_sizes:
            for k, t in active.items():
                if k == "dsproxy-2":
                    continue
                log(f"{t.name}: {n:,} idle TLS sessions")
                r = idle_run(args, t, n)
                t.results.setdefault("idle", []).append(r)
                t.note_failures(f"idle {n}", r)
                log(f"  {fmt(r['kib_per_session'], '{:.1f}')} KiB/session, held {r['held']:,}")
        # The sink is not the bottleneck: its share of a core in dsproxy's run, and alone.
        log("sink alone (plain SMTP, no TLS) for comparison")
        cpu0 = sink.process.cpu()
        sink_alone = load(args, sink.port, ["--sessions", args.sessions, "--concurrency", args.concurrency,
                                            "--tls", "none", *common])
        sink_alone["cpu_us_per_session"] = (sink.process.cpu() - cpu0) * 1e6 / max(1, sink_alone["ok"])
        sink.clean()
        meta = {"elapsed": time.monotonic() - started, "sink_alone": sink_alone, "profile": profile}
        report = render(args, targets, floor, meta)
        # The DANE section is written by hand from `bench.sh --dane` (bench/run_dane.py): kept.
        previous = args.out.read_text() if args.out.exists() else ""
        kept = previous[previous.index("\n## DANE"):] if "\n## DANE" in previous else ""
        args.out.write_text(report + kept)
        print(report)
        log(f"written to {args.out}")
        return 0
    finally:
        for t in targets.values():
            try:
                t.stop()
            except Exception as e:  # keep stopping the others
                print(f"run_bench: stopping {t.name}: {e}", file=sys.stderr)
        for s in sinks:
            s.process.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"run_bench: kept {work}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
