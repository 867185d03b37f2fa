"""Fault-injection soak: nothing a client saw accepted is lost (docs/design.md §2, §10).

Many concurrent SMTP clients (threads, Python's smtplib on loopback) send
messages through `dsproxy run` (three inbound listeners) to three
`dsproxy sink` backends that inject random faults at every stage: 4xx/5xx
replies, closing the connection (at end-of-data: after the final dot, without
replying), stalling past dsproxy's short upstream timeouts, and closing the
connection instead of the TLS handshake after STARTTLS (towards an
`opportunistic` upstream, which dsproxy retries in plain text, and an `encrypt`
one, which becomes a 4xx). Half the client sessions use STARTTLS. Some clients
disconnect in the middle of DATA, some send several messages per session, and
halfway through dsproxy is restarted (SIGTERM drain, then started again). The
run fails if a stage saw no fault or a TLS path was not taken.

Every message carries a unique Message-ID and ends with a marker line naming
it. Afterwards the sinks' Maildirs are read and each message is classified
by what its client saw:
  accepted   250 to the final dot: must be in a Maildir exactly once or more
             (lost = accepted and not stored: must be 0);
  refused    a 5xx anywhere, or a 4xx/connection error before the final dot
             was sent: must not be stored;
  aborted    the client disconnected mid-DATA: must not be stored;
  uncertain  the final dot was sent but the reply was a 4xx or never came:
             may be stored (the final reply was lost; the sending MTA would
             retry), and is counted as a duplicate when it is.
Every stored message must end with its marker (no truncated message was
completed by a forged final dot). Prints
  accepted=N delivered=N lost=0 duplicated=K
and fails on any loss, truncation or refused message that was stored.

  python3 integration/soak_test.py build/proxy/dsproxy [--messages 5000] [--clients 24] [--seed S]

CTest runs a short version (see integration/CMakeLists.txt); the long run is
documented in the README. Only loopback addresses are used.
"""
import argparse
import random
import re
import smtplib
import socket
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

# Per backend: its faults, whether it offers STARTTLS, and the level of dsproxy's
# upstream policy towards it. A `tls=close` fault ends the connection instead of
# the handshake: `opportunistic` then reconnects in plain text, `encrypt` gives
# the client a 4xx (its MTA keeps the message).
SINK_FAULTS = [
    ["tls=close@0.04", "mail=451@0.02", "rcpt=550@0.02", "rcpt=close@0.01", "data=close@0.02",
     "end-of-data=452@0.03", "end-of-data=close@0.03"],
    ["tls=close@0.04", "mail=close@0.02", "mail=550@0.01", "rcpt=stall@0.01", "data=554@0.02",
     "end-of-data=stall@0.02", "end-of-data=554@0.02"],
    ["rcpt=421@0.02", "data=451@0.02", "data=stall@0.01", "end-of-data=close@0.02", "end-of-data=451@0.02"],
]
SINK_TLS = [True, True, False]
UPSTREAM_LEVEL = ["opportunistic", "encrypt", "none"]
CLIENT_STARTTLS = 0.5  # the share of client sessions that use STARTTLS
MARKER = "X-Soak-End: "
MID_DATA_DISCONNECT = 0.03
CLIENT_TIMEOUT = 30


class Ledger:
    """What the clients saw, per Message-ID."""

    def __init__(self):
        self.lock = threading.Lock()
        self.outcome = {}

    def record(self, msgid, what, detail=""):
        with self.lock:
            self.outcome[msgid] = (what, detail)


def message(msgid: str, rng: random.Random) -> bytes:
    lines = [f"Message-ID: <{msgid}>", "From: soak@client.test", "To: user@accepted.test",
             f"Subject: soak {msgid}", ""]
    for i in range(rng.randint(1, 60)):
        lines.append(("." if i % 7 == 0 else "") + "x" * rng.randint(0, 200))
    lines.append(MARKER + msgid)
    return ("\r\n".join(lines) + "\r\n").encode()


def reset(s: smtplib.SMTP, code: int) -> bool:
    """After a refusal: RSET for the next transaction, unless the server is closing (421)."""
    if code == 421:
        return False
    s.rset()
    return True


def send_one(s: smtplib.SMTP, msgid: str, rng: random.Random, ledger: Ledger) -> bool:
    """One transaction on an open session. Returns False when the session is unusable."""
    code, text = s.mail("soak@client.test")
    if code != 250:
        ledger.record(msgid, "refused", f"mail {code}")
        return reset(s, code)
    code, text = s.rcpt("user@accepted.test")
    if code != 250:
        ledger.record(msgid, "refused", f"rcpt {code}")
        return reset(s, code)
    s.putcmd("data")
    code, text = s.getreply()
    if code != 354:
        ledger.record(msgid, "refused", f"data {code}")
        return reset(s, code)
    body = smtplib.quotedata(message(msgid, rng).decode()).encode()
    if rng.random() < MID_DATA_DISCONNECT:
        # The client goes away in the middle of the message: the upstream must
        # never see a final dot for it.
        cut = rng.randint(0, len(body) - 1)
        s.sock.sendall(body[:cut])
        ledger.record(msgid, "aborted", f"after {cut} bytes")
        s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        s.close()
        return False
    try:
        s.send(body + b".\r\n")
        code, text = s.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as e:
        ledger.record(msgid, "uncertain", f"no final reply: {e}")
        return False
    if code == 250:
        ledger.record(msgid, "accepted")
    elif code >= 500:
        ledger.record(msgid, "refused", f"final {code}")
    else:
        ledger.record(msgid, "uncertain", f"final {code}")
    return code != 421


def connect(port: int) -> smtplib.SMTP:
    """A session, retried while nothing listens (the restart): a sending MTA would retry too."""
    for _ in range(200):
        try:
            return smtplib.SMTP("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
        except ConnectionRefusedError:
            time.sleep(0.05)
    return smtplib.SMTP("127.0.0.1", port, timeout=CLIENT_TIMEOUT)


def client(ports, next_id, ledger: Ledger, seed: int) -> None:
    rng = random.Random(seed)
    context = harness.client_context()  # dsproxy's self-signed certificates: not verified
    while True:
        msgid = next_id()
        if msgid is None:
            return
        try:
            with connect(rng.choice(ports)) as s:
                s.ehlo("client.test")
                if rng.random() < CLIENT_STARTTLS:
                    s.starttls(context=context)
                    s.ehlo("client.test")
                while msgid is not None:
                    if not send_one(s, msgid, rng, ledger):
                        break
                    msgid = next_id() if rng.random() < 0.3 else None
                if s.sock:
                    s.quit()
        except (smtplib.SMTPException, OSError) as e:
            # Connection refused during the restart, 421 banners, drops before
            # the final dot: nothing was handed over.
            if msgid is not None and msgid not in ledger.outcome:
                ledger.record(msgid, "refused", f"session: {type(e).__name__}")


def stored_messages(maildirs) -> list:
    """(Message-ID, complete) for every message in the sinks' Maildirs."""
    out = []
    for d in maildirs:
        for f in harness.maildir_messages(d):
            text = f.read_bytes().decode(errors="replace")
            m = re.search(r"^Message-ID: <([^>]+)>", text, re.M)
            msgid = m.group(1) if m else f"<no id: {f.name}>"
            out.append((msgid, text.rstrip("\r\n").endswith(MARKER + msgid)))
    return out


def write_config(path: Path, ports, sink_ports) -> None:
    listeners = "".join(f"""
  in{i}:
    role: inbound
    listen: ["127.0.0.1:{p}"]
    fqdn: mx{i}.accepted.test
    tls: starttls
    upstream: sink{i}""" for i, p in enumerate(ports))
    upstreams = "".join(f"""
  sink{i}:
    hosts: ["127.0.0.1:{p}"]
    tls: {{level: {level}}}""" for i, (p, level) in enumerate(zip(sink_ports, UPSTREAM_LEVEL)))
    path.write_text(f"""
logging: {{level: info}}
process: {{allow_root: true}}  # the tests run as whoever runs them, root included
listeners:{listeners}
upstreams:{upstreams}
accepted_domains: [accepted.test]
certificates:
  directories: [certs]   # a self-signed certificate per listener, made at first start
  auto_selfsigned: true
limits:
  max_connections_per_client: 500
timeouts:
  shutdown_drain: 3s
  upstream: {{connect: 2s, greeting: 2s, ehlo: 2s, mail: 2s, rcpt: 2s, data_init: 2s, data_block: 3s,
              data_final: 3s}}
policies:
  default: {{level: opportunistic}}
""")


def soak(dsproxy: str, messages: int, clients: int, seed: int) -> int:
    with harness.workdir("dsproxy-soak-") as w:
        sink_ports = [harness.free_port() for _ in SINK_FAULTS]
        ports = [harness.free_port() for _ in SINK_FAULTS]
        sinks, maildirs = [], []
        pki = harness.Pki(w / "pki")
        for i, (port, faults) in enumerate(zip(sink_ports, SINK_FAULTS)):
            maildirs.append(w / f"maildir{i}")
            args = [dsproxy, "sink", "--listen", f"127.0.0.1:{port}", "--maildir", maildirs[-1], "--no-fsync",
                    "--fqdn", f"sink{i}.test", "--seed", str(seed + i), "--log-level", "info"]
            if SINK_TLS[i]:
                cert, key = pki.leaf(f"sink{i}.test", dns=[f"sink{i}.test"])
                args += ["--cert", cert, "--key", key]
            for f in faults:
                args += ["--fault", f]
            sinks.append(harness.Process(args, w / f"sink{i}.log"))
            harness.wait_for_port(port, proc=sinks[-1].proc)
        write_config(w / "dsproxy.yaml", ports, sink_ports)
        proxies = [harness.Process([dsproxy, "run", "-c", w / "dsproxy.yaml"], w / "dsproxy-0.log")]
        for p in ports:
            harness.wait_for_port(p, proc=proxies[0].proc)

        ledger = Ledger()
        issued = [0]
        issue_lock = threading.Lock()

        def next_id():
            with issue_lock:
                if issued[0] >= messages:
                    return None
                issued[0] += 1
                return f"soak-{seed}-{issued[0]}@client.test"

        start = time.monotonic()
        threads = [threading.Thread(target=client, args=(ports, next_id, ledger, seed * 1000 + i), daemon=True)
                   for i in range(clients)]
        for t in threads:
            t.start()
        while issued[0] < messages // 2:
            time.sleep(0.05)
        # Restart in the middle: drain, exit, start again on the same ports.
        t0 = time.monotonic()
        restart_exit = proxies[0].stop(timeout=30)
        print(f"restart: the first dsproxy drained and exited with {restart_exit} in {time.monotonic() - t0:.1f}s")
        proxies.append(harness.Process([dsproxy, "run", "-c", w / "dsproxy.yaml"], w / "dsproxy-1.log"))
        for p in ports:
            harness.wait_for_port(p, proc=proxies[1].proc)
        for t in threads:
            t.join(600)
        elapsed = time.monotonic() - start
        final_exit = proxies[1].stop(timeout=30)
        for s in sinks:
            s.stop()

        faults = Counter()
        for s in sinks:
            faults.update(re.findall(r"sink fault at ([^:]+): (\S+)", s.log_path.read_text(errors="replace")))
        print("faults injected: " + " ".join(f"{stage}={what}:{n}" for (stage, what), n in sorted(faults.items())))
        seen = Counter(k for k, _ in ledger.outcome.values())
        stored = stored_messages(maildirs)
        copies = Counter(msgid for msgid, _ in stored)
        truncated = [msgid for msgid, complete in stored if not complete]
        accepted = [m for m, (k, _) in ledger.outcome.items() if k == "accepted"]
        lost = [m for m in accepted if copies[m] == 0]
        delivered = len(accepted) - len(lost)
        wrongly = [(m, ledger.outcome.get(m)) for m in copies
                   if ledger.outcome.get(m, ("unknown",))[0] in ("refused", "aborted", "unknown")]
        duplicated = sum(n - 1 for n in copies.values() if n > 1) + \
            sum(1 for m in copies if ledger.outcome.get(m, ("",))[0] == "uncertain")
        print(f"messages={messages} clients={clients} seed={seed} seconds={elapsed:.1f} "
              f"outcomes={dict(sorted(seen.items()))} stored={len(stored)}")
        print(f"accepted={len(accepted)} delivered={delivered} lost={len(lost)} duplicated={duplicated}")
        problems = []
        if len(ledger.outcome) != messages:
            problems.append(f"{messages - len(ledger.outcome)} messages have no recorded outcome")
        if lost:
            problems.append(f"lost: {lost[:10]}")
        if truncated:
            problems.append(f"stored without their end (a final dot the client never sent): {truncated[:10]}")
        if wrongly:
            problems.append(f"stored although the client saw them refused or aborted: {wrongly[:10]}")
        if restart_exit != 0 or final_exit != 0:
            problems.append(f"dsproxy exit codes {restart_exit}, {final_exit} (0 expected after SIGTERM)")
        for s in sinks:
            if s.proc.returncode not in (0, -15):
                problems.append(f"sink exited with {s.proc.returncode}")
        # Every stage must have seen faults (single kinds are rare enough at
        # a few thousand messages that one may not fire; they are printed above).
        logged_as = {"mail": "MAIL", "rcpt": "RCPT", "data": "DATA", "end-of-data": "end of data", "tls": "tls"}
        stages = {logged_as[f.split("=")[0]] for fs in SINK_FAULTS for f in fs}
        per_stage = Counter()
        for (stage, _), n in faults.items():
            per_stage[stage] += n
        quiet = sorted(st for st in stages if per_stage[st] == 0)
        if quiet:
            problems.append(f"no fault injected at: {quiet}")
        if sum(faults.values()) < messages // 100:
            problems.append(f"only {sum(faults.values())} faults injected for {messages} messages")
        log = "".join(p.log_path.read_text(errors="replace") for p in proxies)
        for what, pattern in (("client STARTTLS", r"tls=in result=ok"), ("upstream STARTTLS", r"tls=out .*protocol=TLS"),
                              ("plain text after a failed upstream handshake", r"plain text after a failed handshake")):
            if not re.search(pattern, log):
                problems.append(f"the run did not exercise {what}")
        if seen["accepted"] == 0 or seen["refused"] == 0 or seen["aborted"] == 0:
            problems.append(f"the run did not exercise every outcome: {dict(seen)}")
        if problems:
            print("FAIL: " + "; ".join(problems))
            for p in proxies:
                print(f"---- {p.log_path.name}\n" + p.log_path.read_text(errors="replace")[-4000:])
            return 1
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dsproxy")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=24)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    a = ap.parse_args()
    return soak(a.dsproxy, a.messages, a.clients, a.seed)


if __name__ == "__main__":
    sys.exit(main())
