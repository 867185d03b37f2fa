#!/usr/bin/env bash
# bench.sh — the side-by-side benchmark (issue 7, docs/design.md §9): installs the peers
# (scripts/install-bench-deps.sh), builds dsproxy and the load generator,
# raises the file-descriptor limit as a deployment would, and runs
# bench/run_bench.py, which prints the table and writes bench/RESULTS.md.
# Arguments go to run_bench.py (--quick for a smoke run of a few seconds,
# --sessions N, --idle 2000,10000, --targets direct,dsproxy,...; --help).
# Takes about 10 minutes on the 2-core machine; not part of CI.
# `scripts/bench.sh --counts [run_counts.py options]` measures instead what a busy
# machine does not change (bench/run_counts.py): instructions per session
# (valgrind --tool=callgrind), system calls per session (strace -f -c) and heap per
# idle TLS session (valgrind --tool=massif), dsproxy beside the direct sink.
# `scripts/bench.sh --dane [run_dane.py options]` measures what DANE adds to an outbound
# session for a cached destination (bench/run_dane.py: latency and CPU per session, a
# DANE-authenticated MX host beside one without TLSA records, in a zone a local knotd serves).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${DSPROXY_BUILD_DIR:-$root/build}
"$root/scripts/install-bench-deps.sh"
cmake -S "$root" -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target dsproxy smtp_load
# 10,000 idle TLS sessions: the generator and the target hold a descriptor
# each per session (stunnel two). A deployment raises LimitNOFILE likewise.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [[ "${1:-}" == --dane ]]; then
    shift
    exec python3 "$root/bench/run_dane.py" --dsproxy "$build/proxy/dsproxy" --load "$build/bench/smtp_load" "$@"
fi
if [[ "${1:-}" == --counts ]]; then
    shift
    exec python3 "$root/bench/run_counts.py" --dsproxy "$build/proxy/dsproxy" --load "$build/bench/smtp_load" "$@"
fi
exec python3 "$root/bench/run_bench.py" --dsproxy "$build/proxy/dsproxy" --load "$build/bench/smtp_load" "$@"
