#!/usr/bin/env python3
"""run_counts — load-independent figures of the benchmark workload (issue 20): counts that do not
change when the machine is busy, for dsproxy (STARTTLS terminated, relayed in plain text to the
plain sink) and the direct STARTTLS sink (`dsproxy sink --cert`, the same TLS code and defaults as
dsproxy: ECDSA P-256, TLS 1.3, X25519, no tickets), each on the same workload as run_bench.py.

  instructions  user-space instructions per session: the target runs under
                `valgrind --tool=callgrind`; after a warm-up `callgrind_control -z`, then N
                sessions, then `callgrind_control -d`, and the dump's totals / N
  syscalls      system calls per session: `strace -f -c -p PID` around N sessions
  heap          heap bytes per idle TLS session (requested + malloc overhead): the target runs
                under `valgrind --tool=massif`; `vgdb snapshot` before and while
                `smtp_load --idle N` holds N sessions after STARTTLS and the second EHLO

Usage: python3 bench/run_counts.py --dsproxy build/proxy/dsproxy --load build/bench/smtp_load
         [--modes instructions,syscalls,heap] [--targets direct,dsproxy] [--sessions 200]
       (scripts/bench.sh --counts runs this). Prints one markdown table.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_targets as bt  # noqa: E402
from run_bench import load  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def start(kind: str, args, work: Path, pki, sink_port: int, wrapper: list):
    if kind == "direct":
        return bt.Sink(args.dsproxy, work, "tls", cert=pki.ecdsa, wrapper=wrapper)
    tool = wrapper[1].split("=")[1] if wrapper else "strace"
    return bt.Dsproxy(args.dsproxy, work, pki, sink_port, wrapper=wrapper, name=f"dsproxy-{tool}")


def sessions(args, port: int, n: int, concurrency: int):
    r = load(args, port, ["--sessions", n, "--concurrency", concurrency, "--threads", 1, "--timeout", 300,
                          "--message-size", args.message_size], timeout=1800)
    if r["failed"]:
        raise RuntimeError(f"{r['failed']} sessions failed: {r.get('failures')}")
    return r


def instructions(args, kind, work, pki, sink) -> float:
    out = work / f"callgrind-{kind}"
    t = start(kind, args, work, pki, sink.port,
              ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p"])
    try:
        sessions(args, t.port, 20, 4)
        subprocess.run(["callgrind_control", "-z", str(t.process.pid)], check=True, capture_output=True, timeout=120)
        sessions(args, t.port, args.sessions, 4)
        subprocess.run(["callgrind_control", "-d", str(t.process.pid)], check=True, capture_output=True, timeout=120)
        dumps = sorted(work.glob(f"callgrind-{kind}.{t.process.pid}.*"), key=lambda p: p.stat().st_mtime)
        text = dumps[-1].read_text(errors="replace")
        total = int(re.search(r"^(?:totals|summary): (\d+)", text, re.M).group(1))
        return total / args.sessions
    finally:
        t.process.stop()


def syscalls(args, kind, work, pki, sink) -> tuple:
    t = start(kind, args, work, pki, sink.port, [])
    out = work / f"strace-{kind}.txt"
    try:
        sessions(args, t.port, 20, 4)
        tracer = subprocess.Popen(["strace", "-f", "-c", "-o", str(out), "-p", str(t.process.pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        sessions(args, t.port, args.sessions, 4)
        tracer.send_signal(2)
        tracer.wait(60)
    finally:
        t.process.stop()
    calls = {}
    for line in out.read_text().splitlines():
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and not line.startswith("100.00"):
            calls[f[-1]] = int(f[3])
    total = sum(calls.values())
    top = sorted(calls.items(), key=lambda kv: -kv[1])[:8]
    return total / args.sessions, ", ".join(f"{k} {v / args.sessions:.1f}" for k, v in top)


def heap(args, kind, work, pki, sink) -> float:
    t = start(kind, args, work, pki, sink.port, ["valgrind", "--tool=massif", "--vgdb=yes"])

    def snapshot(name: str) -> int:
        path = work / f"massif-{kind}-{name}"
        subprocess.run(["vgdb", f"--pid={t.process.pid}", "snapshot", str(path)], check=True, capture_output=True,
                       timeout=120)
        text = path.read_text()
        return int(re.search(r"mem_heap_B=(\d+)", text).group(1)) + int(re.search(r"mem_heap_extra_B=(\d+)",
                                                                                  text).group(1))

    try:
        sessions(args, t.port, 20, 4)
        before = snapshot("before")
        p = subprocess.Popen([str(args.load), "--connect", f"127.0.0.1:{t.port}", "--idle", str(args.idle),
                              "--concurrency", "16", "--threads", "1", "--timeout", "300"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = p.stdout.readline()
        m = re.match(r"ready held=(\d+) failed=(\d+)", ready)
        held = int(m.group(1)) if m else 0
        time.sleep(1.0)
        after = snapshot("held")
        p.stdin.write("\n")
        p.stdin.flush()
        p.communicate(timeout=300)
        if not held:
            raise RuntimeError(f"no idle session held: {ready!r}")
        return (after - before) / held / 1024
    finally:
        t.process.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsproxy", type=Path, default=ROOT / "build/proxy/dsproxy")
    ap.add_argument("--load", type=Path, default=ROOT / "build/bench/smtp_load")
    ap.add_argument("--modes", default="instructions,syscalls,heap")
    ap.add_argument("--targets", default="direct,dsproxy")
    ap.add_argument("--sessions", type=int, default=200, help="measured sessions per target and mode")
    ap.add_argument("--idle", type=int, default=400, help="idle TLS sessions held for the heap figure")
    ap.add_argument("--message-size", type=int, default=10 * 1024)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (the tools' output files)")
    args = ap.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    kinds = [k.strip() for k in args.targets.split(",") if k.strip()]
    work = Path(tempfile.mkdtemp(prefix="dsproxy-counts-"))
    pki = bt.Pki(work / "pki")
    sink = bt.Sink(args.dsproxy, work, "plain")
    rows = {k: {} for k in kinds}
    try:
        for mode in modes:
            for k in kinds:
                print(f"run_counts: {k}: {mode}", file=sys.stderr, flush=True)
                rows[k][mode] = {"instructions": instructions, "syscalls": syscalls, "heap": heap}[mode](
                    args, k, work, pki, sink)
                sink.clean()
    finally:
        sink.process.stop()
        if args.keep:
            print(f"run_counts: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    names = {"direct": "direct STARTTLS sink", "dsproxy": "dsproxy"}
    print(f"\n{args.sessions} sessions per figure (10 KiB message, concurrency 4); heap with {args.idle} idle "
          "TLS sessions\n")
    print("| target | M instructions/session | × direct | syscalls/session | most frequent (per session) | "
          "heap KiB/idle TLS session |")
    print("|---|---|---|---|---|---|")
    base = rows.get("direct", {}).get("instructions")
    for k in kinds:
        r = rows[k]
        ins = r.get("instructions")
        sc = r.get("syscalls", (None, ""))
        print(f"| {names[k]} | {ins / 1e6:.2f} |" if ins else f"| {names[k]} | – |", end="")
        print(f" {ins / base:.2f}× |" if ins and base else " – |", end="")
        print(f" {sc[0]:.1f} | {sc[1]} |" if sc[0] else " – | |", end="")
        print(f" {r['heap']:.1f} |" if "heap" in r else " – |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
