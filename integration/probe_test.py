"""`dsproxy probe` (docs/design.md §8, like posttls-finger): the verdict the relay would reach.

A test PKI and `dsproxy sink` instances on 127.0.0.2-9 presenting good and
bad certificates (wrong name, two nodes deep, self-signed, expired, none at
all), a dnsmasq zone whose MX records point at them, and a configuration
with a policy per case. Checks, per case, the exit status (0 pass, 1 the
policy refuses, 2 no route / nobody reachable / usage), the chain printed
(subject, issuer, SHA-256 equal to openssl's fingerprint, validity), the
name check with the matched name and rule or the names presented, --level,
host targets with --domain, static routes, and that for every domain the
probe agrees with what `dsproxy run` really does with a message (250 or the
4xx/5xx the probe printed). Loopback only; no mail is sent by the probe.
"""
import os
import re
import shutil
import smtplib
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def sha256_of(cert: Path) -> str:
    out = harness.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", cert]).stdout
    return out.strip().split("=", 1)[1].replace(":", "").upper()


class Probe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-probe-")
        w = cls.work = cls._wd.__enter__()
        pki = cls.pki = harness.Pki(w / "pki")
        cls.certs = {
            "bad": pki.leaf("bad", dns=["mail.other.test"]),
            "good": pki.leaf("good", dns=["mail.partner.test"]),
            "deep": pki.leaf("deep", dns=["mail.us.deep.test"]),
            "selfsigned": pki.leaf("selfsigned", dns=["mx.selfsigned.test"], self_signed=True),
            "expired": pki.leaf_dated("expired", ["mx.expired.test"], "20200101000000Z", "20200201000000Z"),
            "wild": pki.leaf("wild", dns=["*.wild.test"]),
        }
        store = w / "certs"
        store.mkdir()
        cert, key = pki.leaf("relay", dns=["relay.example.org"])
        shutil.copy(cert, store / "relay.pem")
        shutil.copy(key, store / "relay.key")
        os.chmod(store / "relay.key", 0o600)

        cls.mx_port = harness.free_port()
        cls.procs, cls.sinks = [], {}
        sinks = (("bad", "127.0.0.2"), ("good", "127.0.0.3"), ("plain", "127.0.0.4"), ("deep", "127.0.0.5"),
                 ("selfsigned", "127.0.0.6"), ("expired", "127.0.0.7"), ("wild", "127.0.0.8"))
        for name, addr in sinks:
            maildir = w / f"maildir-{name}"
            args = [harness.DSPROXY, "sink", "--listen", f"{addr}:{cls.mx_port}", "--maildir", maildir, "--no-fsync",
                    "--fqdn", f"{name}.sink.test"]
            if name in cls.certs:
                args += ["--cert", cls.certs[name][0], "--key", cls.certs[name][1]]
            p = harness.Process(args, w / f"sink-{name}.log")
            cls.procs.append(p)
            cls.sinks[name] = (maildir, p)
            harness.wait_for_port(cls.mx_port, addr, proc=p.proc)

        zone = [
            "--mx-host=partner.test,mx1.partner.test,10", "--mx-host=partner.test,mx2.partner.test,20",
            "--host-record=mx1.partner.test,127.0.0.2", "--host-record=mx2.partner.test,127.0.0.3",
            "--mx-host=plain.test,mx.plain.test,10", "--host-record=mx.plain.test,127.0.0.4",
            "--mx-host=deep.test,mx.deep.test,10", "--host-record=mx.deep.test,127.0.0.5",
            "--mx-host=selfsigned.test,mx.selfsigned.test,10", "--host-record=mx.selfsigned.test,127.0.0.6",
            "--mx-host=encrypt.test,mx.selfsigned.test,10",
            "--mx-host=expired.test,mx.expired.test,10", "--host-record=mx.expired.test,127.0.0.7",
            "--mx-host=wild.test,mx.wild.test,10", "--host-record=mx.wild.test,127.0.0.8",
            "--mx-host=testing.test,mx1.partner.test,10",
            "--mx-host=secure.test,mx2.partner.test,10",
            "--mx-host=nullmx.test,.,0",
        ]
        cls.dns, cls.dns_port = harness.start_dnsmasq(w, zone)
        cls.closed_port = harness.free_port()  # nothing listens there
        cls.relay_port = harness.free_port()
        cls.config = w / "dsproxy.yaml"
        cls.config.write_text(f"""
process: {{allow_root: true, io_threads: 1}}  # the tests run as whoever runs them, root included
listeners:
  smarthost:
    role: outbound
    listen: ["127.0.0.1:{cls.relay_port}"]
    fqdn: relay.example.org
    tls: none
    allowed_clients: ["127.0.0.0/8"]
certificates:
  directories: [certs]
trust:
  system: false
  ca_file: {pki.ca_cert}
store: {{path: {w / "store.db"}}}  # MTA-STS's cache: the default, /var/lib/dsproxy, is not the test's
outbound:
  dns_servers: ["127.0.0.1:{cls.dns_port}"]
  trust_anchors: []  # dnsmasq does not sign: no DNSSEC validation
  dns_timeout: 3s
  dns_tries: 2
  mx_port: {cls.mx_port}
  address_order: ipv4-only
timeouts:
  upstream: {{connect: 3s}}
policies:
  default: {{level: opportunistic}}
  partner.test: {{level: domain}}
  deep.test: {{level: domain}}
  selfsigned.test: {{level: validate}}
  encrypt.test: {{level: encrypt}}
  expired.test: {{level: validate, on_failure: reject}}
  wild.test: {{level: domain}}
  testing.test: {{level: domain, mode: testing}}
  secure.test: {{level: domain-secure, tls_domain: partner.test, client_certificate: relay.example.org}}
  routed.test: {{level: domain, tls_domain: partner.test, route: ["127.0.0.2:{cls.mx_port}", "127.0.0.3:{cls.mx_port}"]}}
  down.test: {{level: encrypt, route: ["127.0.0.1:{cls.closed_port}"]}}
""")

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            p.stop()
        cls.dns.terminate()
        cls.dns.wait(5)
        cls._wd.__exit__(None, None, None)

    def probe(self, *args, want: int) -> str:
        r = subprocess.run([harness.DSPROXY, "probe", *[str(a) for a in args], "-c", self.config, "--timeout", "10"],
                           capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, want, out)
        return out

    def hostport(self, addr_or_name: str) -> str:
        return f"{addr_or_name}:{self.mx_port}"

    def test_domain_fails_over_to_the_mx_whose_certificate_matches(self):
        out = self.probe("partner.test", want=0)
        self.assertIn("policy partner.test domain partner.test level domain on_failure defer", out)
        self.assertIn(f"route mx1.partner.test:{self.mx_port} 127.0.0.2\nroute mx2.partner.test:{self.mx_port} 127.0.0.3",
                      out)
        self.assertRegex(out, r"host mx1\.partner\.test:\d+ address 127\.0\.0\.2\n  banner 220 bad\.sink\.test")
        self.assertIn("names domain partner.test (domain rules): nomatch; presented mail.other.test", out)
        self.assertIn("result refuse: certificate check failed", out)
        # The chain of the host that passed, with the checks that made it pass.
        self.assertIn("starttls offered", out)
        self.assertRegex(out, r"tls TLSv1\.[23] \S+")
        self.assertIn('certificate 0 subject="CN=mail.partner.test" issuer="CN=Test Root CA,O=dsproxy test"', out)
        self.assertIn("    sha256 " + sha256_of(self.certs["good"][0]), out)
        self.assertRegex(out, r"    valid \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC to \d{4}-")
        self.assertIn("    dns mail.partner.test", out)
        self.assertIn("chain ok", out)
        self.assertIn("names domain partner.test (domain rules): match one-node-deep mail.partner.test", out)
        self.assertTrue(out.rstrip().endswith(f"verdict pass mx2.partner.test:{self.mx_port}"), out)

    def test_two_nodes_deep_is_refused(self):
        out = self.probe("deep.test", want=1)
        self.assertIn("nomatch; presented mail.us.deep.test", out)
        self.assertIn("verdict refuse 451 4.7.5 TLS policy for deep.test not satisfied, try again later", out)

    def test_wildcard_of_the_domain_passes(self):
        out = self.probe("wild.test", want=0)
        self.assertIn("names domain wild.test (domain rules): match wildcard *.wild.test", out)

    def test_validate_refuses_a_self_signed_chain_encrypt_does_not(self):
        out = self.probe("selfsigned.test", want=1)
        self.assertRegex(out, r"chain untrusted; depth 0 ")
        self.assertIn("names not checked at level validate", out)
        out = self.probe("encrypt.test", want=0)
        self.assertRegex(out, r"chain untrusted; depth 0 .* \(not required at level encrypt\)")
        self.assertIn("result pass: TLS at level encrypt", out)

    def test_expired_with_reject_gives_550(self):
        out = self.probe("expired.test", want=1)
        self.assertIn("chain expired", out)
        self.assertIn("verdict refuse 550 5.7.1 TLS policy for expired.test not satisfied", out)

    def test_level_option_judges_at_another_level(self):
        out = self.probe("plain.test", want=0)
        self.assertIn("starttls not offered", out)
        self.assertIn("result pass: plain text (STARTTLS not offered)", out)
        out = self.probe("plain.test", "--level", "encrypt", want=1)
        self.assertIn("level encrypt (--level)", out)
        self.assertIn("result refuse: upstream does not offer STARTTLS", out)
        # partner.test's MX1 passes at validate (names are not checked there).
        out = self.probe("partner.test", "--level", "validate", want=0)
        self.assertIn(f"verdict pass mx1.partner.test:{self.mx_port}", out)
        out = self.probe("partner.test", "--level", "nonsense", want=2)

    def test_mode_testing_passes_and_says_what_would_fail(self):
        out = self.probe("testing.test", want=0)
        self.assertIn("result pass: mode testing: would refuse: certificate check failed", out)
        self.assertIn("(mode testing: the level would refuse it)", out)

    def test_domain_secure_presents_the_client_certificate(self):
        out = self.probe("secure.test", want=0)
        self.assertIn('client_certificate CN=relay.example.org', out)
        self.assertIn("match one-node-deep mail.partner.test", out)
        self.assertTrue(harness.wait_until(
            lambda: re.search(r"sni=mx2\.partner\.test client_certificate=subject=", self.sinks["good"][1].log()), 5))

    def test_static_route_and_all_hosts(self):
        out = self.probe("routed.test", want=0)
        self.assertIn(f"route 127.0.0.2:{self.mx_port} 127.0.0.2", out)
        self.assertIn(f"verdict pass 127.0.0.3:{self.mx_port}", out)
        # --all goes on after the first pass; the verdict names the first that passed.
        out = self.probe("partner.test", "--level", "validate", "--all", want=0)
        self.assertEqual(out.count("result pass"), 2, out)
        self.assertIn(f"verdict pass mx1.partner.test:{self.mx_port}", out)

    def test_host_targets(self):
        out = self.probe(f"[127.0.0.2]:{self.mx_port}", "--domain", "partner.test", want=1)
        self.assertIn("policy partner.test domain partner.test level domain", out)
        self.assertIn("verdict refuse 451 4.7.5", out)
        out = self.probe(f"mx2.partner.test:{self.mx_port}", "--domain", "partner.test", "--server",
                         f"127.0.0.1:{self.dns_port}", want=0)
        self.assertIn(f"verdict pass mx2.partner.test:{self.mx_port}", out)
        # Without --domain a host is judged under its own name's lookup (here: default).
        out = self.probe(f"[mx1.partner.test]:{self.mx_port}", want=0)
        self.assertIn("policy default domain mx1.partner.test level opportunistic", out)

    def test_no_route_nobody_reachable_and_usage(self):
        out = self.probe("nothing.test", want=2)
        self.assertIn("verdict fail no route: 550 5.1.2", out)
        out = self.probe("nullmx.test", want=2)
        self.assertIn("verdict fail no route: 556 5.1.10", out)
        out = self.probe("down.test", want=2)
        self.assertIn("result unreachable: connect failed", out)
        self.assertIn("verdict fail no host reachable", out)
        self.probe("[127.0.0.1", want=2)
        self.probe("2001:db8::1:25", want=2)
        self.probe("bad..name", want=2)

    def test_the_probe_agrees_with_the_relay(self):
        relay = harness.Process([harness.DSPROXY, "run", "-c", self.config], self.work / "relay.log")
        try:
            harness.wait_for_port(self.relay_port, proc=relay.proc)
            for domain in ("partner.test", "deep.test", "wild.test", "selfsigned.test", "encrypt.test",
                           "expired.test", "plain.test", "testing.test", "routed.test"):
                with self.subTest(domain=domain):
                    r = subprocess.run([harness.DSPROXY, "probe", domain, "-c", self.config, "--timeout", "10"],
                                       capture_output=True, text=True, timeout=60)
                    with smtplib.SMTP("127.0.0.1", self.relay_port, timeout=30) as s:
                        s.ehlo("mta.example.org")
                        self.assertEqual(s.mail("sender@example.org")[0], 250)
                        code, text = s.rcpt(f"user@{domain}")
                        if code == 250:
                            code, text = s.data(b"Subject: agree\r\n\r\nhello\r\n")
                    if r.returncode == 0:
                        self.assertEqual(code, 250, f"probe passed, relay said {code} {text!r}\n{r.stdout}")
                    else:
                        self.assertEqual(r.returncode, 1, r.stdout)
                        verdict = re.search(r"verdict refuse (\d{3}) (\d\.\d\.\d)", r.stdout)
                        self.assertEqual((code, text.decode().split()[0]), (int(verdict[1]), verdict[2]), r.stdout)
        finally:
            self.assertEqual(relay.stop(), 0, relay.log())


if __name__ == "__main__":
    harness.main()
