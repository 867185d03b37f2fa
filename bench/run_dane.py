#!/usr/bin/env python3
"""run_dane — what DANE adds to an outbound session for a cached destination (issue 17,
docs/design.md §6.4): dsproxy's outbound listener relays to a STARTTLS sink (`dsproxy sink --cert`,
ECDSA P-256) found through MX records in a DNSSEC-signed zone that a local Knot DNS (knotd) serves;
dsproxy validates in process, trusting the zone's key (outbound.trust_anchors). Two recipient
domains of that zone reach the same sink:

  dane     ee.dane.bench: its MX host publishes TLSA 3 1 1 (the sink's key): TLSA looked up, TLS
           required, OpenSSL's DANE verification of the chain
  no-tlsa  plain.dane.bench: its MX host has no TLSA record (a secure denial): opportunistic TLS

The client side is plain SMTP (smtp_load --tls none) so the figures are the outbound leg's. After a
warm-up (every answer in libunbound's cache), the two domains run in alternating rounds: latency is
the median of the rounds' p50 with one client; CPU is utime+stime of dsproxy's process per session
at concurrency 4. Added = dane - no-tlsa.

Usage: python3 bench/run_dane.py --dsproxy build/proxy/dsproxy --load build/bench/smtp_load
         [--sessions 300] [--rounds 5]   (scripts/bench.sh --dane runs this). Prints one table.
"""
import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_targets as bt  # noqa: E402
from run_bench import load, median  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ZONE = "dane.bench"


def spki_sha256(cert: Path) -> str:
    pub = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def signed_zone(work: Path, sink_port: int, cert: Path) -> tuple:
    """The zone file signed with a new key (ldns-keygen, ldns-signzone); returns (signed file, DNSKEY file)."""
    text = work / f"{ZONE}.zone"
    text.write_text("\n".join([
        f"$ORIGIN {ZONE}.", "$TTL 3600", f"@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 3600",
        f"@ IN NS ns.{ZONE}.", "ns IN A 127.0.0.1",
        "ee IN MX 10 mx-ee", "plain IN MX 10 mx-plain", "mx-ee IN A 127.0.0.1", "mx-plain IN A 127.0.0.1",
        f"_{sink_port}._tcp.mx-ee IN TLSA 3 1 1 {spki_sha256(cert)}"]) + "\n")
    key = work / bt.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", ZONE], cwd=work).stdout.strip()
    signed = work / f"{ZONE}.signed"
    bt.run(["ldns-signzone", "-f", signed, text, key], cwd=work)
    return signed, Path(str(key) + ".key")


def start_knot(work: Path, zone_file: Path):
    root = work / "knot"
    root.mkdir()
    port = bt.free_port()
    conf = root / "knot.conf"
    conf.write_text(f"""server:
    rundir: "{root}"
    listen: 127.0.0.1@{port}
log:
  - target: stderr
    any: warning
database:
    storage: "{root}/db"
template:
  - id: default
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: {ZONE}
    file: "{zone_file}"
""")
    log = open(root / "knotd.log", "wb")
    proc = subprocess.Popen([shutil.which("knotd") or "/usr/sbin/knotd", "-c", str(conf)], stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return proc, port


def wait_dns(dsproxy: Path, port: int):
    end = time.monotonic() + 20
    while time.monotonic() < end:
        r = subprocess.run([str(dsproxy), "resolve", "--no-dnssec", f"ee.{ZONE}", "--query", "mx", "--server",
                            f"127.0.0.1:{port}", "--timeout-ms", "300", "--tries", "1"], capture_output=True, text=True)
        if r.returncode == 0 and f"mx-ee.{ZONE}" in r.stdout:
            return
        time.sleep(0.1)
    raise RuntimeError("knotd does not answer")


def start_dsproxy(args, work: Path, dns_port: int, anchor: Path, sink_port: int):
    import json
    root = work / "dsproxy"
    root.mkdir()
    port = bt.free_port()
    config = {
        "listeners": {"smarthost": {"role": "outbound", "listen": [f"127.0.0.1:{port}"], "fqdn": bt.FQDN,
                                    "tls": "none", "allowed_clients": ["127.0.0.0/8"]}},
        "trust": {"system": False},
        "outbound": {"dns_servers": [f"127.0.0.1:{dns_port}"], "trust_anchors": [str(anchor)],
                     "mx_port": sink_port, "address_order": "ipv4-only"},
        "policies": {"default": {"level": "opportunistic"}},
        "limits": {"max_connections": 30000, "max_connections_per_client": 30000},
        "process": {"io_threads": 1, "allow_root": True},
    }
    (root / "dsproxy.yaml").write_text(json.dumps(config, indent=2) + "\n")
    return bt.Process("dsproxy-dane", [args.dsproxy, "run", "-c", root / "dsproxy.yaml"], root / "dsproxy.log", port)


def sessions(args, proxy, domain: str, n: int, concurrency: int) -> dict:
    cpu0 = proxy.cpu()
    r = load(args, proxy.port, ["--tls", "none", "--to", f"user@{domain}", "--sessions", n, "--concurrency",
                                concurrency, "--threads", 1, "--timeout", 60, "--message-size", args.message_size])
    r["cpu_s"] = proxy.cpu() - cpu0
    if r["failed"] or not r["ok"]:
        raise RuntimeError(f"{domain}: {r['failed']} sessions failed: {r.get('failures')}")
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsproxy", type=Path, default=ROOT / "build/proxy/dsproxy")
    ap.add_argument("--load", type=Path, default=ROOT / "build/bench/smtp_load")
    ap.add_argument("--sessions", type=int, default=300, help="sessions per domain and round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--message-size", type=int, default=10 * 1024)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dsproxy-dane-bench-"))
    procs = []
    try:
        pki = bt.Pki(work / "pki")
        sink = bt.Sink(args.dsproxy, work, "tls", cert=pki.ecdsa)
        procs.append(sink.process)
        zone_file, anchor = signed_zone(work, sink.port, pki.ecdsa[0])
        knot, dns_port = start_knot(work, zone_file)
        try:
            wait_dns(args.dsproxy, dns_port)
            proxy = start_dsproxy(args, work, dns_port, anchor, sink.port)
            procs.append(proxy)
            domains = {"dane": f"ee.{ZONE}", "no-tlsa": f"plain.{ZONE}"}
            for d in domains.values():  # warm-up: every answer cached
                sessions(args, proxy, d, 20, 1)
            log = (work / "dsproxy" / "dsproxy.log").read_text(errors="replace")
            if "dane=authenticated" not in log or "dane=not-applicable" not in log:
                raise RuntimeError("the two domains are not DANE-authenticated / not-applicable:\n" + log[-3000:])
            p50 = {k: [] for k in domains}
            cpu = {k: [0.0, 0] for k in domains}
            for i in range(args.rounds):
                for k, d in (list(domains.items()) if i % 2 == 0 else list(domains.items())[::-1]):
                    print(f"run_dane: round {i + 1}: {k}", file=sys.stderr, flush=True)
                    p50[k].append(sessions(args, proxy, d, args.sessions, 1)["latency_us"]["p50"])
                    r = sessions(args, proxy, d, args.sessions, 4)
                    cpu[k][0] += r["cpu_s"]
                    cpu[k][1] += r["ok"]
                    sink.clean()
        finally:
            knot.terminate()
            knot.wait(20)
    finally:
        for p in reversed(procs):
            p.stop()
        shutil.rmtree(work, ignore_errors=True)
    lat = {k: median(v) / 1000 for k, v in p50.items()}
    us = {k: c[0] * 1e6 / c[1] for k, c in cpu.items()}
    print(f"\n{args.rounds} alternating rounds of {args.sessions} sessions per domain (10 KiB message; latency "
          "with one client, CPU at concurrency 4), every DNS answer cached\n")
    print("| destination | p50 ms/session | CPU µs/session (dsproxy) |")
    print("|---|---|---|")
    for k, d in domains.items():
        print(f"| {k} ({d}) | {lat[k]:.2f} | {us[k]:.0f} |")
    print(f"| added by DANE | {lat['dane'] - lat['no-tlsa']:+.2f} | {us['dane'] - us['no-tlsa']:+.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
