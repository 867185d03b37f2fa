"""bench_report — the markdown of the side-by-side benchmark: the table with the ratios to the best
peer and to the crypto floor, the docs/design.md §9 targets marked met or not, and the notes (versions,
settings, the sink's share, the profile when taken).

Owns: formatting only. Must not: run anything but the peers' version commands (bench_targets).
"""
import datetime
import os
import re

import bench_targets as bt


def fmt(v, spec="{:,.0f}", none="–"):
    return none if v is None else spec.format(v)


def ratio(a, b):
    return a / b if a is not None and b else None


def table(targets: dict, floor: dict, args, meta: dict) -> str:
    d, x = targets["direct"], targets["dsproxy"]
    peers = [t for k, t in targets.items() if k in ("stunnel", "nginx")]

    def res(t, phase, key):
        return t.results.get(phase, {}).get(key)

    def best(phase, key, lower=True):
        values = [res(p, phase, key) for p in peers if res(p, phase, key) is not None]
        return (min(values) if lower else max(values)) if values else None

    best_cpu = best("load", "cpu_us_per_session")
    lines = [
        f"| target | sessions/s (C={args.concurrency}) | p50 / p99 ms (C={args.concurrency}) | p50 ms, one client "
        f"| CPU µs/session | × best peer | × floor | CPU µs/session, RSA-2048 | × RSA floor "
        f"| KiB/idle TLS session, N=2,000 | N=10,000 | MB/s, 20 MiB | % of direct | TLS tickets/session | failures |",
        "|" + "---|" * 15,
    ]
    order = [k for k in ("direct", "dsproxy", "dsproxy-2", "stunnel", "nginx") if k in targets]
    for k in order:
        t = targets[k]
        ld = t.results.get("load", {})
        cpu = ld.get("cpu_us_per_session")
        rsa = res(t, "rsa", "cpu_us_per_session")
        idle = {r["n"]: r for r in t.results.get("idle", [])}

        def idle_cell(n):
            r = idle.get(n)
            if not r:
                return "–"
            failed = r.get("failed", 0) + (n - r["held"] if r["held"] < n else 0)
            cell = fmt(r["kib_per_session"], "{:.1f}")
            return cell + (f" ({failed:,} failed)" if failed else "")

        mbps = res(t, "big", "message_mb_per_s")
        tickets = ld.get("tickets", 0) / ld["ok"] if ld.get("ok") else None
        fails = sum(t.failures.values())
        if k == "dsproxy-2" and t.results.get("unavailable"):
            lines.append(f"| {t.name} | {t.results['unavailable']} |" + " |" * 14)
            continue
        lat = ld.get("latency_us") or {}
        one = (res(t, "latency", "latency_us") or {}).get("p50")
        lines.append("| " + " | ".join([
            t.name,
            fmt(ld.get("sessions_per_s")),
            f"{lat['p50'] / 1000:.1f} / {lat['p99'] / 1000:.1f}" if lat else "–",
            fmt(one / 1000 if one else None, "{:.2f}"),
            fmt(cpu),
            fmt(ratio(cpu, best_cpu), "{:.2f}×"),
            fmt(ratio(cpu, floor["ecdsa"]), "{:.1f}×"),
            fmt(rsa),
            fmt(ratio(rsa, floor["rsa"]), "{:.1f}×"),
            idle_cell(2000) if 2000 in idle else idle_cell(min(idle) if idle else 0),
            idle_cell(10000) if 10000 in idle else "–",
            fmt(mbps, "{:.0f}"),
            fmt(ratio(mbps, res(d, "big", "message_mb_per_s")), "{:.0%}") if mbps else "–",
            fmt(tickets, "{:.1f}"),
            f"{fails:,}",
        ]) + " |")
    lines.append("| crypto floor (2 × X25519 + ECDSA P-256 sign; RSA: 2 × X25519 + RSA-2048 sign) | | | | "
                 f"{floor['ecdsa']:.0f} | | 1.0× | {floor['rsa']:.0f} | 1.0× | | | | | | |")
    return "\n".join(lines)


def verdicts(targets: dict, floor: dict) -> list:
    d, x = targets["direct"], targets["dsproxy"]
    n = targets.get("nginx")
    out = []

    def check(ok, text):
        out.append(f"- {'met' if ok else '**not met**'}: {text}")

    cpu = x.results.get("load", {}).get("cpu_us_per_session")
    ncpu = n.results.get("load", {}).get("cpu_us_per_session") if n else None
    if cpu and ncpu:
        check(cpu <= 0.6 * ncpu, f"CPU per session ≤ 0.6× nginx's: {cpu:,.0f} µs vs {ncpu:,.0f} µs = {cpu / ncpu:.2f}×")
    if cpu:
        check(cpu <= 10 * floor["ecdsa"],
              f"CPU per session ≤ 10× the crypto floor: {cpu:,.0f} µs vs {floor['ecdsa']:.0f} µs = {cpu / floor['ecdsa']:.1f}×")
    idle = {r["n"]: r for r in x.results.get("idle", [])}
    for size, r in sorted(idle.items()):
        kib = r["kib_per_session"]
        failed = r.get("failed", 0) + max(0, size - r["held"])
        check(kib is not None and kib <= 16, f"memory per idle TLS session ≤ 16 KiB at N={size:,}: {fmt(kib, '{:.1f}')} KiB")
        if size >= 10000:
            check(failed == 0, f"{size:,} concurrent idle TLS sessions without an error: {failed:,} failed")
    mb, dmb = x.results.get("big", {}).get("message_mb_per_s"), d.results.get("big", {}).get("message_mb_per_s")
    if mb and dmb:
        check(mb >= 0.9 * dmb, f"20 MiB message ≥ 90% of the direct path's MB/s: {mb:.0f} vs {dmb:.0f} MB/s = {mb / dmb:.0%}")
    lp = (x.results.get("latency", {}).get("latency_us") or {}).get("p50")
    dlp = (d.results.get("latency", {}).get("latency_us") or {}).get("p50")
    if lp and dlp:
        check(lp <= dlp + 1000, f"p50 latency of one client ≤ direct + 1 ms: {lp / 1000:.2f} ms vs {dlp / 1000:.2f} ms")
    two = targets.get("dsproxy-2")
    if two is not None:
        if two.results.get("unavailable"):
            out.append(f"- not measured: 2 I/O threads — {two.results['unavailable']}")
        else:
            r1 = x.results.get("load", {}).get("sessions_per_s")
            r2 = two.results.get("load", {}).get("sessions_per_s")
            if r1 and r2:
                check(r2 > r1, f"2 I/O threads give more throughput than 1: {r2:,.0f} vs {r1:,.0f} sessions/s")
    return out


def render(args, targets, floor, meta) -> str:
    v = bt.versions(args.dsproxy)
    cpu_model = "unknown"
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
        cpu_model = m.group(1) if m else cpu_model
    x = targets["dsproxy"].results.get("load", {})
    sink_share = (x.get("sink_cpu_s", 0) / x["elapsed_s"]) if x.get("elapsed_s") else 0
    sa = meta["sink_alone"]
    lines = [
        "# dsproxy benchmark results",
        "",
        f"Generated by `scripts/bench.sh` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"in {meta['elapsed'] / 60:.1f} minutes. Machine: {os.cpu_count()} cores ({cpu_model}), shared with other "
        "work: only ratios within this run count.",
        "",
        f"Workload (docs/design.md §9): connect, EHLO, STARTTLS, full TLS 1.3 handshake (X25519, ECDSA P-256 certificate, "
        f"no resumption), EHLO, MAIL, RCPT, DATA of {args.message_size // 1024} KiB, QUIT; {args.sessions:,} "
        f"sessions at concurrency {args.concurrency} from `smtp_load` with {args.load_threads} threads; every "
        "reply code checked. CPU is utime+stime of the target's own processes from /proc (nginx: master and "
        "worker; not the auth_http server).",
        "",
        table(targets, floor, args, meta),
        "",
        "## Targets (docs/design.md §9)",
        "",
        *verdicts(targets, floor),
        "",
        "## Notes",
        "",
        f"- Versions: {v['openssl']}; {v['stunnel']}; {v['nginx']}; dsproxy from this tree.",
        f"- Crypto floor from `openssl speed`: X25519 {floor['x25519_us']:.1f} µs/op, ECDSA P-256 sign "
        f"{floor['ecdsa_sign_us']:.1f} µs, RSA-2048 sign {floor['rsa_sign_us']:.1f} µs; a server's full handshake "
        "needs two X25519 operations (its key share and the shared secret) and one signature.",
        f"- The sink (`dsproxy sink --no-fsync`, Maildir in a tmpfs) is not the bottleneck: in dsproxy's run it "
        f"used {sink_share:.0%} of one core ({fmt(x.get('sink_cpu_s', 0) * 1e6 / x['ok'] if x.get('ok') else None)} "
        f"µs/session); alone, plain SMTP, it served {sa['sessions_per_s']:,.0f} sessions/s at "
        f"{sa['cpu_us_per_session']:,.0f} µs/session.",
        "- Idle memory: RSS growth of a freshly started target while it holds N sessions that completed "
        "STARTTLS and the second EHLO, divided by N.",
        "- Fair settings: one worker per peer (nginx `worker_processes 1`; stunnel has no single-thread mode and "
        "runs a thread per connection), TLS 1.3, nginx `smtp_client_buffer 64k`, `ssl_session_tickets off`, "
        "`ssl_session_cache off`, `xclient off`; stunnel 5.68 has no setting for TLS 1.3 tickets, so OpenSSL's "
        "default of two stays (the tickets column); each at its default log level (dsproxy `info`).",
        "- dsproxy I/O threads: set with `process.io_threads` in each dsproxy row's configuration.",
        "- What the profiles say about the targets not met, and what would close them: "
        "[PROFILE.md](PROFILE.md).",
    ]
    if meta.get("profile"):
        lines += ["", "## Profile of dsproxy under the load (perf record, self time)", "", "```",
                  meta["profile"], "```"]
    failures = [(t.name, f, n) for t in targets.values() for f, n in t.failures.items()]
    if failures:
        lines += ["", "## Failures", ""] + [f"- {name}: {f}: {n:,}" for name, f, n in failures]
    return "\n".join(lines) + "\n"
