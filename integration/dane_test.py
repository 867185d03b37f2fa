"""Outbound DANE end to end (RFC 7672, docs/design.md §6.4, issue 17).

A real authoritative DNS server (Knot DNS from Debian) on 127.0.0.1 at a free
port serves zones the test signs itself with ldns-keygen and ldns-signzone;
dsproxy forwards its outbound DNS to it and validates DNSSEC in process,
trusting the test zones' keys through outbound.trust_anchors. The next hops
are `dsproxy sink` instances on 127.0.0.2-4 with certificates made by the
test (self-signed A and B; C issued by the test CA for mx-ta.dane.test, its
chain including the CA) and a scripted server on 127.0.0.1 that offers no
STARTTLS. Python's smtplib is the sending MTA. Each case checks the reply the
client got, what reached which next hop, and the `dane=` of the log:

  DANE-EE 3 1 1 match -> delivered, dane=authenticated
  DANE-EE mismatch -> 451 4.7.5, nothing crosses; with a second MX that
    matches -> delivered there
  rollover pair (a stale key and the current one) -> delivered
  secure MX with TLSA whose host offers no STARTTLS -> 451, no MAIL, RCPT or
    message byte in plain text
  bogus TLSA RRset (its RRSIG broken) -> the host is not used, 451
  bogus zone (signed with a key that is not the trust anchor; RRSIGs
    expired) -> 451 4.4.3
  DANE with a YAML level: both must pass (DANE never lowers it)
  only 0 0 1 records -> TLS required but unauthenticated (delivered over TLS,
    refused without STARTTLS)
  DANE-TA 2 0 1 with a good name -> delivered; with a wrong name -> 451
  unsigned zone -> the normal policy (opportunistic delivered)
  dane: mandatory -> refused towards an unsigned zone, delivered to a DANE one
  dane: none -> delivered, and no TLSA query reached the DNS server (Knot's
    per-zone query statistics, mod-stats)
  reload with a changed trust anchor -> the zone becomes secure and DANE
    applies to new sessions
Only loopback addresses are used.
"""
import hashlib
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def spki_sha256(cert: Path) -> str:
    """The SHA-256 of a certificate's SubjectPublicKeyInfo (TLSA selector 1, matching type 1)."""
    pub = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def cert_sha256(cert: Path) -> str:
    """The SHA-256 of a whole certificate (selector 0, matching type 1)."""
    der = subprocess.run(["openssl", "x509", "-in", str(cert), "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def keygen(work: Path, zone: str) -> Path:
    """A new ECDSA P-256 key for `zone` (one key signs everything); returns the path without suffix."""
    out = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone], cwd=work, check=True,
                         capture_output=True, text=True).stdout.strip()
    return work / out


def dnskey(key: Path) -> Path:
    """The DNSKEY file ldns-keygen wrote beside the key (the trust anchor)."""
    return Path(str(key) + ".key")


def sign(work: Path, zone_file: Path, key: Path, dates=()) -> Path:
    """ldns-signzone (NSEC); `dates`: ("-i", inception, "-e", expiration) to sign with other validity."""
    out = zone_file.with_suffix(".signed")
    subprocess.run(["ldns-signzone", *dates, "-f", str(out), str(zone_file), str(key)], cwd=work, check=True,
                   capture_output=True)
    return out


def zone_text(origin: str, records: list) -> str:
    head = [f"$ORIGIN {origin}.", "$TTL 300",
            f"@ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 300",
            f"@ IN NS ns.{origin}.", "ns IN A 127.0.0.1"]
    return "\n".join(head + records) + "\n"


class Knot:
    """knotd with its own configuration, answering for `zones` {name: file} on 127.0.0.1:port."""

    def __init__(self, work: Path, zones: dict):
        self.dir = work / "knot"
        self.dir.mkdir()
        self.socket = self.dir / "knot.sock"
        conf = self.dir / "knot.conf"
        for _ in range(5):
            self.port = harness.free_port()
            conf.write_text(f"""server:
    rundir: "{self.dir}"
    listen: 127.0.0.1@{self.port}
log:
  - target: stderr
    any: info
database:
    storage: "{self.dir}/db"
control:
    listen: "{self.socket}"
mod-stats:
  - id: queries
    query-type: on
template:
  - id: default
    journal-content: none
    zonefile-sync: -1
    module: mod-stats/queries
zone:
""" + "".join(f"  - domain: {name}\n    file: \"{path}\"\n" for name, path in zones.items()))
            knotd = shutil.which("knotd") or "/usr/sbin/knotd"
            self.proc = harness.Process([knotd, "-c", conf], self.dir / "knotd.log")
            if harness.wait_until(lambda: self.proc.proc.poll() is not None or self.answers(), 10) and \
                    self.proc.proc.poll() is None:
                return
            self.proc.stop()
        raise RuntimeError("knotd did not start: " + (self.dir / "knotd.log").read_text())

    def answers(self) -> bool:
        r = subprocess.run([harness.DSPROXY, "resolve", "--no-dnssec", "ee.dane.test", "--query", "mx", "--server",
                            f"127.0.0.1:{self.port}", "--timeout-ms", "300", "--tries", "1"],
                           capture_output=True, text=True)
        return r.returncode == 0 and "mx-ee.dane.test" in r.stdout

    def queries(self, zone: str, qtype: str) -> int:
        """How many queries of `qtype` the zone answered (mod-stats)."""
        r = subprocess.run(["knotc", "-s", str(self.socket), "zone-stats", zone, "mod-stats.query-type"],
                           capture_output=True, text=True)
        m = re.search(rf"query-type\[{qtype}\] = (\d+)", r.stdout)
        return int(m.group(1)) if m else 0

    def stop(self):
        self.proc.stop()


def question(packet: bytes):
    """(qname, qtype) of a DNS query's first question (RFC 1035 §4.1.2); qtype as a number."""
    labels, i = [], 12
    while i < len(packet) and packet[i]:
        labels.append(packet[i + 1:i + 1 + packet[i]].decode("ascii", "replace").lower())
        i += 1 + packet[i]
    return ".".join(labels), int.from_bytes(packet[i + 1:i + 3], "big")


class SlowDns:
    """A UDP relay in front of knotd that holds every answer `delay` seconds and records, per query,
    (qname, qtype, when it came, when its answer left), to see which queries were in flight together."""

    def __init__(self, upstream_port: int, delay: float):
        self.upstream, self.delay = upstream_port, delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.log, self.lock = [], threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                packet, client = self.sock.recvfrom(65535)
            except OSError:
                return
            threading.Thread(target=self._relay, args=(packet, client, time.monotonic()), daemon=True).start()

    def _relay(self, packet, client, came):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(2)
            up.sendto(packet, ("127.0.0.1", self.upstream))
            try:
                answer = up.recv(65535)
            except OSError:
                return
        time.sleep(max(0.0, came + self.delay - time.monotonic()))
        try:
            self.sock.sendto(answer, client)
        except OSError:
            return
        with self.lock:
            self.log.append((*question(packet), came, time.monotonic()))

    def find(self, qname: str, qtype: int):
        with self.lock:
            return [e for e in self.log if e[0] == qname and e[1] == qtype]

    def close(self):
        self.sock.close()


class Dane(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-dane-")
        cls.work = cls._wd.__enter__()
        cls.proxy, cls.notls, cls.knot, cls.procs = None, None, None, []
        try:
            cls.set_up()
        except BaseException:
            for p in cls.procs + ([cls.knot.proc] if cls.knot else []):
                print(f"--- {p.args[0]} {p.args[1]}:\n{p.log()[-3000:]}")
            cls.tearDownClass()
            raise

    @classmethod
    def set_up(cls):
        w = cls.work
        pki = harness.Pki(w / "pki")
        a = pki.leaf("a", dns=["a.sink.invalid"], self_signed=True)
        b = pki.leaf("b", dns=["b.sink.invalid"], self_signed=True)
        stale = pki.leaf("stale", dns=["stale.invalid"], self_signed=True)
        ta_leaf = pki.leaf("ta", dns=["mx-ta.dane.test"])
        ta_chain = w / "pki" / "ta-chain.pem"
        ta_chain.write_text(ta_leaf[0].read_text() + pki.ca_cert.read_text())
        relay = pki.leaf("relay", dns=["relay.example.org"])

        cls.mx_port = harness.free_port()
        cls.sinks = {}
        for name, addr, (cert, key) in (("a", "127.0.0.2", a), ("b", "127.0.0.3", b),
                                         ("ta", "127.0.0.4", (ta_chain, ta_leaf[1]))):
            maildir = w / f"maildir-{name}"
            p = harness.Process([harness.DSPROXY, "sink", "--listen", f"{addr}:{cls.mx_port}", "--maildir", maildir,
                                 "--no-fsync", "--fqdn", f"{name}.sink.test", "--cert", cert, "--key", key],
                                w / f"sink-{name}.log")
            cls.procs.append(p)
            cls.sinks[name] = maildir
            harness.wait_for_port(cls.mx_port, addr, proc=p.proc)
        # A next hop that offers no STARTTLS and records every line it gets.
        cls.notls = harness.FakeSmtp(port=cls.mx_port, starttls="hide", name="notls.sink.test")

        port = cls.mx_port
        tlsa = f"_{port}._tcp"
        key_a, key_stale = spki_sha256(a[0]), spki_sha256(stale[0])
        ca = cert_sha256(pki.ca_cert)
        dane_records = [
            "mx-ee IN A 127.0.0.2", f"{tlsa}.mx-ee IN TLSA 3 1 1 {key_a}",
            "mx-wrong IN A 127.0.0.3", f"{tlsa}.mx-wrong IN TLSA 3 1 1 {key_a}",  # sink b presents key b
            "mx-notls IN A 127.0.0.1", f"{tlsa}.mx-notls IN TLSA 3 1 1 {key_a}",
            "mx-roll IN A 127.0.0.2", f"{tlsa}.mx-roll IN TLSA 3 1 1 {key_stale}",
            f"{tlsa}.mx-roll IN TLSA 3 1 1 {key_a}",
            "mx-pkix IN A 127.0.0.3", f"{tlsa}.mx-pkix IN TLSA 0 0 1 {cert_sha256(b[0])}",
            "mx-pkixnotls IN A 127.0.0.1", f"{tlsa}.mx-pkixnotls IN TLSA 0 0 1 {cert_sha256(b[0])}",
            "mx-ta IN A 127.0.0.4", f"{tlsa}.mx-ta IN TLSA 2 0 1 {ca}",
            "mx-tawrong IN A 127.0.0.4", f"{tlsa}.mx-tawrong IN TLSA 2 0 1 {ca}",
            "mx-tlsabogus IN A 127.0.0.2", f"{tlsa}.mx-tlsabogus IN TLSA 3 1 1 {key_a}",
            "ee IN MX 10 mx-ee", "mismatch IN MX 10 mx-wrong", "next IN MX 10 mx-wrong", "next IN MX 20 mx-ee",
            "notls IN MX 10 mx-notls", "roll IN MX 10 mx-roll", "pkix IN MX 10 mx-pkix",
            "pkixnotls IN MX 10 mx-pkixnotls", "ta IN MX 10 mx-ta", "tawrong IN MX 10 mx-tawrong",
            "tlsabogus IN MX 10 mx-tlsabogus", "mand IN MX 10 mx-ee",
            "eevalidate IN MX 10 mx-ee", "tavalidate IN MX 10 mx-ta",
        ]
        zones = {}
        anchors = {}
        keys = {}

        def signed(origin, records, key_zone=None, dates=()):
            text_file = w / f"{origin}.zone"
            text_file.write_text(zone_text(origin, records))
            key = keygen(w, key_zone or origin)
            keys[origin] = key
            return sign(w, text_file, key, dates)

        zones["dane.test"] = signed("dane.test", dane_records)
        anchors["dane.test"] = dnskey(keys["dane.test"])
        # The TLSA RRset of mx-tlsabogus with a broken signature: bogus, while its MX and A records stay secure.
        text = zones["dane.test"].read_text().splitlines()
        owner = f"{tlsa}.mx-tlsabogus.dane.test."
        for i, line in enumerate(text):
            f = line.split()
            if f and f[0] == owner and "RRSIG" in f and f[f.index("RRSIG") + 1] == "TLSA":
                sig = f[-1]
                f[-1] = sig[:8] + ("A" if sig[8] != "A" else "B") + sig[9:]
                text[i] = "\t".join(f)
                break
        else:
            raise RuntimeError("no RRSIG TLSA for mx-tlsabogus in the signed zone")
        zones["dane.test"].write_text("\n".join(text) + "\n")

        mismatch_b = [f"mx IN A 127.0.0.3", f"{tlsa}.mx IN TLSA 3 1 1 {key_a}"]  # sink b: would mismatch
        zones["none.test"] = signed("none.test", ["@ IN MX 10 mx"] + mismatch_b)
        anchors["none.test"] = dnskey(keys["none.test"])
        plain = w / "plain.test.zone"
        plain.write_text(zone_text("plain.test", ["@ IN MX 10 mx", "strict IN MX 10 mx"] + mismatch_b))
        zones["plain.test"] = plain
        zones["wrongkey.test"] = signed("wrongkey.test", ["@ IN MX 10 mx", "mx IN A 127.0.0.2"])
        anchors["wrongkey.test"] = dnskey(keygen(w, "wrongkey.test"))  # not the signing key
        zones["expired.test"] = signed("expired.test", ["@ IN MX 10 mx", "mx IN A 127.0.0.2"],
                                       dates=("-i", "20200101000000", "-e", "20200201000000"))
        anchors["expired.test"] = dnskey(keys["expired.test"])
        cls.anchors = anchors
        cls.knot = Knot(w, zones)

        certs = w / "certs"
        certs.mkdir()
        shutil.copy(relay[0], certs / "relay.pem")
        shutil.copy(relay[1], certs / "relay.key")
        cls.port, cls.metrics_port = harness.free_port(), harness.free_port()
        cls.proxy = cls.start_proxy("main", cls.port, list(anchors.values()), cls.metrics_port)

    @classmethod
    def config(cls, port, trust_anchors, metrics_port=None, dns_port=None) -> str:
        metrics = f'metrics: {{listen: "127.0.0.1:{metrics_port}"}}\n' if metrics_port else ""
        return f"""logging: {{level: info}}
process: {{allow_root: true}}
{metrics}listeners:
  smarthost:
    role: outbound
    listen: ["127.0.0.1:{port}"]
    fqdn: relay.example.org
    tls: none
    allowed_clients: ["127.0.0.0/8"]
certificates:
  directories: [{cls.work / "certs"}]
trust:
  ca_file: {cls.work / "pki" / "ca.pem"}
outbound:
  dns_servers: ["127.0.0.1:{dns_port or cls.knot.port}"]
  trust_anchors: [{", ".join(str(a) for a in trust_anchors)}]
  dns_timeout: 3s
  dns_tries: 2
  mx_port: {cls.mx_port}
  address_order: ipv4-only
timeouts:
  upstream:
    connect: 3s
policies:
  default: {{level: opportunistic}}
  none.test: {{level: opportunistic, dane: none}}
  strict.plain.test: {{level: opportunistic, dane: mandatory}}
  mand.dane.test: {{level: opportunistic, dane: mandatory}}
  eevalidate.dane.test: {{level: validate, on_failure: reject}}
  tavalidate.dane.test: {{level: validate, on_failure: reject}}
"""

    @classmethod
    def start_proxy(cls, name, port, trust_anchors, metrics_port=None, dns_port=None):
        path = cls.work / f"{name}.yaml"
        path.write_text(cls.config(port, trust_anchors, metrics_port, dns_port))
        proxy = harness.Process([harness.DSPROXY, "run", "-c", path], cls.work / f"{name}.log")
        cls.procs.append(proxy)
        harness.wait_for_port(port, proc=proxy.proc)
        return proxy

    @classmethod
    def tearDownClass(cls):
        if cls.notls:
            cls.notls.close()
        for p in cls.procs:
            p.stop()
        if cls.knot:
            cls.knot.stop()
        cls._wd.__exit__(None, None, None)

    # --- helpers -----------------------------------------------------------------

    def send(self, domain, port=None):
        """One message to user@domain; returns (rcpt reply, data reply or None, subject)."""
        subject = f"dane-{domain}-{time.monotonic_ns()}"
        with smtplib.SMTP("127.0.0.1", port or self.port, timeout=30) as s:
            s.ehlo("mta.example.org")
            self.assertEqual(s.mail("sender@example.org")[0], 250)
            rcpt = s.rcpt(f"user@{domain}")
            data = None
            if rcpt[0] == 250:
                data = s.data(harness.message(subject, sender="sender@example.org").encode())
            return rcpt, data, subject

    def arrived(self, sink, subject) -> bool:
        return any(subject in p.read_text(errors="replace") for p in harness.maildir_messages(self.sinks[sink]))

    def delivered(self, domain, sink, dane, port=None, proxy=None):
        rcpt, data, subject = self.send(domain, port)
        self.assertEqual(rcpt[0], 250, rcpt)
        self.assertEqual(data[0], 250, data)
        self.assertTrue(harness.wait_until(lambda: self.arrived(sink, subject), 5), f"not at sink {sink}")
        return self.txn(domain, dane, proxy)

    def refused(self, domain, enhanced=b"4.7.5", port=None, proxy=None):
        before = {s: len(harness.maildir_messages(m)) for s, m in self.sinks.items()}
        rcpt, data, _ = self.send(domain, port)
        self.assertEqual(rcpt[0], 451, rcpt)
        self.assertIn(enhanced, rcpt[1])
        self.assertIsNone(data)
        self.assertEqual({s: len(harness.maildir_messages(m)) for s, m in self.sinks.items()}, before,
                         "a message crossed although DANE refused")
        return rcpt

    def txn(self, domain, dane, proxy=None):
        """The `txn` line of the last transaction to `domain`, whose dane= must be `dane` (the sts= fields follow)."""
        proxy = proxy or self.proxy
        pattern = rf"txn from=<sender@example\.org> to=<user@{re.escape(domain)}> .* dane={dane} sts=\S+ sts_id=\S+$"
        self.assertTrue(harness.wait_until(lambda: re.search(pattern, proxy.log(), re.M), 5),
                        f"no txn line with dane={dane} for {domain}:\n{proxy.log()[-3000:]}")
        return proxy.log()

    def refused_txn(self, domain, reason):
        """The `txn` line of a transaction to `domain` that no host was connected to: dane=failed, and
        `reason` (a regex) in its result."""
        pattern = (rf"txn from=<sender@example\.org> to=- size=0 upstream=mx:{re.escape(domain)} "
                   rf"result=\"failed: cannot connect to the upstream: [^\"]*{reason}[^\"]*\" .* host=- tls=- dane=failed sts=\S+ sts_id=\S+$")
        self.assertTrue(harness.wait_until(lambda: re.search(pattern, self.proxy.log(), re.M), 5),
                        f"no txn line with dane=failed for {domain}:\n{self.proxy.log()[-3000:]}")

    def tls_line(self, host):
        lines = [l for l in self.proxy.log().splitlines() if " tls=out " in l and f" host={host} " in l]
        self.assertTrue(lines, f"no tls=out line for {host}")
        return lines[-1]

    # --- the matrix ----------------------------------------------------------------

    def test_dane_ee_3_1_1_match_is_delivered_authenticated(self):
        self.delivered("ee.dane.test", "a", "authenticated")
        line = self.tls_line("mx-ee.dane.test")
        self.assertIn("dane=authenticated", line)
        self.assertIn('dane_detail="3 1 1 depth=0"', line)

    def test_dane_ee_mismatch_defers_and_nothing_crosses(self):
        rcpt = self.refused("mismatch.dane.test")
        self.assertIn(b"TLSA", rcpt[1])
        self.assertIn("dane=failed", self.tls_line("mx-wrong.dane.test"))

    def test_dane_ee_mismatch_moves_on_to_the_next_mx_that_matches(self):
        self.delivered("next.dane.test", "a", "authenticated")
        self.assertIn("dane=failed", self.tls_line("mx-wrong.dane.test"))

    def test_rollover_pair_is_delivered(self):
        self.delivered("roll.dane.test", "a", "authenticated")
        self.assertIn('dane_detail="3 1 1 depth=0"', self.tls_line("mx-roll.dane.test"))

    def test_tlsa_but_no_starttls_defers_and_not_a_byte_in_plain_text(self):
        mark = self.notls.mark()
        self.refused("notls.dane.test")
        # It was asked (EHLO: no STARTTLS), and got not one envelope command nor a line of the message.
        self.assertTrue(self.notls.since(mark, verbs=("EHLO",)), "the host was never contacted")
        self.assertEqual(self.notls.since(mark), [], "envelope commands sent in plain text")
        self.assertFalse([l for l in self.notls.lines() if "notls.dane.test" in l or "Subject" in l])
        self.assertRegex(self.proxy.log(), r"host=mx-notls\.dane\.test dane=failed reason=no TLS")

    def test_bogus_tlsa_rrset_means_the_host_is_not_used(self):
        self.refused("tlsabogus.dane.test")
        self.assertRegex(self.proxy.log(), r"host=mx-tlsabogus\.dane\.test:\d+ dane=failed reason=\"?TLSA lookup "
                                           r"for mx-tlsabogus\.dane\.test failed: bogus")
        self.refused_txn("tlsabogus.dane.test", r"TLSA lookup for mx-tlsabogus\.dane\.test failed: bogus")

    def test_zone_signed_with_a_key_that_is_not_the_anchor_is_bogus(self):
        self.refused("wrongkey.test", enhanced=b"4.4.3")

    def test_expired_signatures_are_bogus(self):
        self.refused("expired.test", enhanced=b"4.4.3")

    def test_only_0_0_1_records_require_tls_without_authentication(self):
        self.delivered("pkix.dane.test", "b", "unauthenticated-required")
        self.assertIn("dane=unauthenticated-required", self.tls_line("mx-pkix.dane.test"))
        mark = self.notls.mark()
        self.refused("pkixnotls.dane.test")
        self.assertTrue(self.notls.since(mark, verbs=("EHLO",)), "the host was never contacted")
        self.assertEqual(self.notls.since(mark), [])

    def test_dane_ta_2_0_1_with_a_good_name_is_delivered(self):
        self.delivered("ta.dane.test", "ta", "authenticated")
        self.assertIn('dane_detail="2 0 1 depth=1 name=mx-ta.dane.test"', self.tls_line("mx-ta.dane.test"))

    def test_dane_ta_2_0_1_with_a_wrong_name_is_refused(self):
        self.refused("tawrong.dane.test")
        self.assertIn("dane=failed", self.tls_line("mx-tawrong.dane.test"))

    def test_dane_never_lowers_the_yaml_level(self):
        # DANE-EE matches sink a's self-signed key, but `validate` wants a chain to the trust
        # store: the level's own failure, with its own on_failure (reject).
        rcpt, data, _ = self.send("eevalidate.dane.test")
        self.assertEqual(rcpt[0], 550, rcpt)
        self.assertIsNone(data)
        # Both pass: the test CA's leaf for DANE-TA, and the same CA in the trust store.
        self.delivered("tavalidate.dane.test", "ta", "authenticated")

    def test_unsigned_zone_follows_the_normal_policy(self):
        # Its TLSA record would not match sink b: an insecure answer must be ignored.
        self.delivered("plain.test", "b", "not-applicable")
        self.assertIn("dane=not-applicable", self.tls_line("mx.plain.test"))

    def test_mandatory_refuses_an_unsigned_zone_and_delivers_to_a_dane_one(self):
        self.refused("strict.plain.test")
        self.assertRegex(self.proxy.log(), r"host=mx\.plain\.test:\d+ dane=failed reason=\"?dane: mandatory")
        self.refused_txn("strict.plain.test", r"mx\.plain\.test: dane: mandatory, but no DANE")
        self.delivered("mand.dane.test", "a", "authenticated")

    def test_none_sends_no_tlsa_query(self):
        # none.test is signed and publishes a TLSA record that sink b does not match.
        self.delivered("none.test", "b", "not-applicable")
        self.assertEqual(self.knot.queries("none.test", "TLSA"), 0)
        self.assertGreater(self.knot.queries("none.test", "MX"), 0)
        # The same server does see TLSA queries for the zones DANE applies to.
        self.delivered("ee.dane.test", "a", "authenticated")
        self.assertGreater(self.knot.queries("dane.test", "TLSA"), 0)

    def test_the_outcomes_are_counted(self):
        self.delivered("ee.dane.test", "a", "authenticated")
        self.refused("mismatch.dane.test")
        text = harness.scrape(f"http://127.0.0.1:{self.metrics_port}/metrics")
        self.assertGreaterEqual(harness.metric_sample(text, "dsproxy_dane_results_total", 'outcome="authenticated"'), 1)
        self.assertGreaterEqual(harness.metric_sample(text, "dsproxy_dane_results_total", 'outcome="failed"'), 1)

    def probe(self, domain):
        r = subprocess.run([harness.DSPROXY, "probe", domain, "-c", self.work / "main.yaml", "--timeout", "10"],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def test_probe_shows_the_dnssec_status_the_records_and_the_decision(self):
        rc, out = self.probe("ee.dane.test")
        self.assertEqual(rc, 0, out)
        self.assertIn("dnssec name=secure addresses=secure tlsa=secure", out)
        self.assertRegex(out, r"tlsa 3 1 1 [0-9a-f]{64} usable")
        self.assertIn("dane authenticated: 3 1 1 depth=0", out)
        rc, out = self.probe("mismatch.dane.test")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("dane failed: no TLSA record matched", out)
        self.assertIn("verdict refuse 451 4.7.5", out)
        rc, out = self.probe("pkix.dane.test")
        self.assertRegex(out, r"tlsa 0 0 1 [0-9a-f]{64} unusable: ")
        self.assertIn("dane unauthenticated-required", out)
        rc, out = self.probe("tlsabogus.dane.test")
        self.assertIn("tlsa=bogus", out)
        self.assertIn("dane failed", out)
        rc, out = self.probe("plain.test")
        self.assertEqual(rc, 0, out)
        self.assertIn("dnssec name=insecure", out)
        self.assertIn("dane not-applicable", out)

    def test_the_tlsa_query_is_in_flight_with_the_address_lookup(self):
        # Every answer held 0.4 s: asked one after the other, the TLSA query would leave only once the A
        # answer is back; asked together (issue 17 "Performance"), it comes while the A query waits.
        slow = SlowDns(self.knot.port, 0.4)
        port = harness.free_port()
        proxy = self.start_proxy("slowdns", port, list(self.anchors.values()), dns_port=slow.port)
        try:
            self.delivered("ee.dane.test", "a", "authenticated", port=port, proxy=proxy)
            a = slow.find("mx-ee.dane.test", 1)
            tlsa = slow.find(f"_{self.mx_port}._tcp.mx-ee.dane.test", 52)
            self.assertEqual(len(a), 1, slow.log)
            self.assertEqual(len(tlsa), 1, slow.log)
            (_, _, a_came, a_answered), (_, _, tlsa_came, _) = a[0], tlsa[0]
            self.assertLess(tlsa_came, a_answered, "the TLSA query waited for the A answer")
            self.assertLess(abs(tlsa_came - a_came), 0.2, "the two queries did not leave together")
            # No TLSA query where DANE cannot apply: an unsigned zone's MX host.
            self.delivered("plain.test", "b", "not-applicable", port=port, proxy=proxy)
            self.assertEqual(slow.find(f"_{self.mx_port}._tcp.mx.plain.test", 52), [])
        finally:
            proxy.stop()
            self.procs.remove(proxy)
            slow.close()

    def test_reload_with_a_changed_trust_anchor_takes_effect(self):
        port = harness.free_port()
        without = [a for z, a in self.anchors.items() if z != "dane.test"]
        proxy = self.start_proxy("reload", port, without)
        try:
            # dane.test has no anchor: insecure, its TLSA records do not apply.
            self.delivered("mismatch.dane.test", "b", "not-applicable", port=port, proxy=proxy)
            path = self.work / "reload.yaml"
            path.write_text(self.config(port, list(self.anchors.values())))
            mark = proxy.log_mark()
            proxy.send_signal(signal.SIGHUP)
            harness.wait_for_log(proxy, r"reloaded ", since=mark)
            self.refused("mismatch.dane.test", port=port, proxy=proxy)
        finally:
            proxy.stop()
            self.procs.remove(proxy)


if __name__ == "__main__":
    harness.main()
