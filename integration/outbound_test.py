"""Outbound engine end to end (docs/design.md §1 outbound, §6.1, §6.3).

dsproxy as a smart host: a local DNS zone (dnsmasq) whose MX records point at
`dsproxy sink` instances on 127.0.0.2-4 (one with a certificate that does not
match the partner domain, one with a one-node-deep certificate that does, one
without STARTTLS). Python's smtplib is the sending MTA. Checks: MX order and
failover to the next host when the certificate fails the domain policy,
encrypt without STARTTLS deferred or rejected per on_failure with nothing
delivered, null MX and NXDOMAIN replies, 452 for a recipient on another
route, mode testing relays and logs, allowed_clients refuses others; every
wrong certificate (untrusted, expired, revoked, two nodes deep, wildcard over
the parent, partial wildcard) at the level that must refuse it, domain-secure
failures, opportunistic retrying in plain text after a failed handshake (and
encrypt refusing), the policy metrics, and (DnsFailures) SERVFAIL and a silent
DNS server deferring the recipient with 451 4.4.3.
Only loopback addresses are used.
"""
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DSPROXY = None


class Outbound(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-out-")
        cls.work = cls._wd.__enter__()
        w = cls.work
        cls.pki = harness.Pki(w / "pki")
        bad = cls.pki.leaf("bad", dns=["mail.other.test"])
        good = cls.pki.leaf("good", dns=["mail.partner.test"])
        untrusted = cls.pki.leaf("untrusted", dns=["mail.untrusted.test"], self_signed=True)
        expired = cls.pki.leaf_dated("expired", ["mail.expired.test"], "20200101000000Z", "20200201000000Z")
        revoked = cls.pki.leaf_dated("revoked", ["mail.revoked.test"], "20240101000000Z", "20991231000000Z")
        cls.crl = cls.pki.revoke(revoked[0])
        deep = cls.pki.leaf("deep", dns=["mail.us.deep.test"])
        parentwild = cls.pki.leaf("parentwild", dns=["*.test"])
        partial = cls.pki.leaf("partial", dns=["m*.partial.test"])
        certs = w / "certs"
        certs.mkdir()
        cert, key = cls.pki.leaf("relay", dns=["relay.example.org"])
        shutil.copy(cert, certs / "relay.pem")
        shutil.copy(key, certs / "relay.key")
        os.chmod(certs / "relay.key", 0o600)
        # A certificate only for presenting as a client (EKU clientAuth only), outside the store directory.
        cls.client_only = cls.pki.leaf("partner-client", dns=["client.example.org"], usage="clientAuth")
        os.chmod(cls.client_only[1], 0o600)

        cls.mx_port = harness.free_port()
        cls.procs = []
        cls.sinks = {}
        for name, addr, tls in (("bad", "127.0.0.2", bad), ("good", "127.0.0.3", good), ("plain", "127.0.0.4", None),
                                ("untrusted", "127.0.0.5", untrusted), ("expired", "127.0.0.6", expired),
                                ("revoked", "127.0.0.7", revoked), ("deep", "127.0.0.8", deep),
                                ("parentwild", "127.0.0.9", parentwild), ("partial", "127.0.0.10", partial),
                                ("tlsfail", "127.0.0.11", good)):
            maildir = w / f"maildir-{name}"
            args = [DSPROXY, "sink", "--listen", f"{addr}:{cls.mx_port}", "--maildir", maildir, "--no-fsync",
                    "--fqdn", f"{name}.sink.test"]
            if tls:
                args += ["--cert", tls[0], "--key", tls[1]]
            if name == "tlsfail":  # offers STARTTLS, then closes instead of the handshake
                args += ["--fault", "tls=close"]
            p = harness.Process(args, w / f"sink-{name}.log")
            cls.procs.append(p)
            cls.sinks[name] = maildir
            harness.wait_for_port(cls.mx_port, addr, proc=p.proc)

        zone = [
            "--mx-host=partner.test,mx1.partner.test,10", "--mx-host=partner.test,mx2.partner.test,20",
            "--host-record=mx1.partner.test,127.0.0.2", "--host-record=mx2.partner.test,127.0.0.3",
            "--mx-host=plain.test,mx.plain.test,10", "--host-record=mx.plain.test,127.0.0.4",
            "--mx-host=strict.test,mx.plain.test,10", "--mx-host=strictr.test,mx.plain.test,10",
            "--mx-host=testing.test,mx1.partner.test,10",
            "--mx-host=nullmx.test,.,0",
            "--host-record=mx.untrusted.test,127.0.0.5", "--host-record=mx.expired.test,127.0.0.6",
            "--host-record=mx.revoked.test,127.0.0.7", "--host-record=mx.deep.test,127.0.0.8",
            "--host-record=mx.parentwild.test,127.0.0.9", "--host-record=mx.partial.test,127.0.0.10",
            "--mx-host=validate-untrusted.test,mx.untrusted.test,10",
            "--mx-host=encrypt-untrusted.test,mx.untrusted.test,10",
            "--mx-host=validate-expired.test,mx.expired.test,10",
            "--mx-host=validate-revoked.test,mx.revoked.test,10",
            "--mx-host=validate-wrongname.test,mx1.partner.test,10",
            "--mx-host=deep.test,mx.deep.test,10",
            "--mx-host=wild.test,mx.parentwild.test,10",
            "--mx-host=partial.test,mx.partial.test,10",
            "--mx-host=secure.test,mx2.partner.test,10",
            "--mx-host=testing-plain.test,mx.plain.test,10",
            "--mx-host=crl-only.test,mx2.partner.test,10",
            "--mx-host=secure-wrongname.test,mx1.partner.test,10",
            "--mx-host=sameroute.test,mx.plain.test,10",
            "--mx-host=secure-client.test,mx2.partner.test,10",
            "--mx-host=otherpolicy.test,mx.plain.test,10",
            "--mx-host=secure-untrusted.test,mx.untrusted.test,10",
            "--mx-host=secure-plain.test,mx.plain.test,10",
            "--host-record=mx.tlsfail.test,127.0.0.11",
            "--mx-host=tlsfail-opportunistic.test,mx.tlsfail.test,10",
            "--mx-host=tlsfail-encrypt.test,mx.tlsfail.test,10",
        ]
        cls.dns, dns_port = harness.start_dnsmasq(w, zone)
        # A next hop that speaks TLS 1.2 only, with one cipher: the target of policies whose
        # min_tls or ciphers it cannot meet (reached by a static route, not MX).
        cls.tls12 = harness.FakeSmtp(cert=good[0], key=good[1], name="tls12.sink.test")
        cls.tls12.context.maximum_version = ssl.TLSVersion.TLSv1_2
        cls.tls12.context.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")

        cls.port = harness.free_port()
        cls.denied_port = harness.free_port()
        cls.metrics_port = harness.free_port()
        (w / "domains.d").mkdir()
        (w / "dsproxy.yaml").write_text(f"""
include: [domains.d]
logging: {{level: info}}
process: {{allow_root: true}}  # the tests run as whoever runs them, root included
metrics: {{listen: "127.0.0.1:{cls.metrics_port}"}}
listeners:
  smarthost:
    role: outbound
    listen: ["127.0.0.1:{cls.port}"]
    fqdn: relay.example.org
    tls: none
    allowed_clients: ["127.0.0.0/8"]
  elsewhere:
    role: outbound
    listen: ["127.0.0.1:{cls.denied_port}"]
    fqdn: relay.example.org
    tls: none
    allowed_clients: ["192.0.2.0/24"]
certificates:
  directories: [certs]
  files: [{{certificate: {cls.client_only[0]}, key: {cls.client_only[1]}, client_only: true}}]
trust:
  ca_file: {cls.pki.ca_cert}
outbound:
  dns_servers: ["127.0.0.1:{dns_port}"]
  trust_anchors: []  # dnsmasq does not sign: no DNSSEC validation
  dns_timeout: 3s
  dns_tries: 2
  mx_port: {cls.mx_port}
  address_order: ipv4-first
timeouts:
  upstream:
    connect: 3s
policies:
  default:
    level: opportunistic
  partner.test:
    level: domain
  strict.test:
    level: encrypt
  strictr.test:
    level: encrypt
    on_failure: reject
  testing.test:
    level: domain
    mode: testing
  validate-untrusted.test: {{level: validate}}
  encrypt-untrusted.test: {{level: encrypt}}
  validate-expired.test: {{level: validate}}
  validate-revoked.test: {{level: validate, crl: [{cls.crl}]}}
  validate-wrongname.test: {{level: validate}}
  deep.test: {{level: domain}}
  wild.test: {{level: domain}}
  partial.test: {{level: domain, on_failure: reject}}
  secure.test: {{level: domain-secure, tls_domain: partner.test, client_certificate: relay.example.org}}
  testing-plain.test: {{level: encrypt, mode: testing}}
  crl-only.test: {{level: validate, crl: [{cls.crl}]}}  # the global anchors stay
  secure-wrongname.test: {{level: domain-secure}}
  secure-client.test: {{level: domain-secure, tls_domain: partner.test, client_certificate: client.example.org}}
  otherpolicy.test: {{level: opportunistic}}  # the default's level, but an entry of its own
  secure-untrusted.test: {{level: domain-secure, tls_domain: untrusted.test}}
  secure-plain.test: {{level: domain-secure}}
  tlsfail-opportunistic.test: {{level: opportunistic}}
  tlsfail-encrypt.test: {{level: encrypt}}
  tls12.test: {{level: encrypt, route: ["127.0.0.1:{cls.tls12.port}"]}}
  tls13-only.test: {{level: encrypt, min_tls: "1.3", route: ["127.0.0.1:{cls.tls12.port}"]}}
  chacha-only.test: {{level: encrypt, ciphers: ECDHE-ECDSA-CHACHA20-POLY1305, route: ["127.0.0.1:{cls.tls12.port}"]}}
""")
        cls.proxy = harness.Process([DSPROXY, "run", "-c", w / "dsproxy.yaml"], w / "dsproxy.log")
        harness.wait_for_port(cls.port, proc=cls.proxy.proc)

    @classmethod
    def start_postfix(cls):
        """The organisation's MTA: a private Postfix instance whose relayhost is dsproxy."""
        if getattr(cls, "postfix_dir", None):
            return
        import tempfile
        pf = Path(tempfile.mkdtemp(prefix="dsproxy-postfix-"))
        os.chmod(pf, 0o755)  # the postfix user must reach its queue
        cls.postfix_dir = pf
        for d in ("etc", "queue", "data"):
            (pf / d).mkdir()
        shutil.chown(pf / "data", "postfix")
        cls.postfix_port = harness.free_port()
        master = Path("/etc/postfix/master.cf").read_text().splitlines()
        out = []
        for line in master:
            fields = line.split()
            if len(fields) >= 8 and not line.startswith((" ", "#")):
                if fields[4] == "y":
                    fields[4] = "n"  # no chroot: the queue is in a temp dir
                if fields[0] == "smtp" and fields[1] == "inet":
                    fields[0] = f"127.0.0.1:{cls.postfix_port}"
                line = " ".join(fields)
            out.append(line)
        (pf / "etc" / "master.cf").write_text("\n".join(out) + "\n")
        (pf / "etc" / "main.cf").write_text(f"""compatibility_level = 3.6
queue_directory = {pf}/queue
data_directory = {pf}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.contoso.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{cls.port}
maillog_file = {pf}/maillog
maillog_file_prefixes = {pf}
alias_maps =
alias_database =
""")
        harness.run(["postfix", "-c", pf / "etc", "set-permissions"], check=False)
        harness.run(["postfix", "-c", pf / "etc", "start"])
        harness.wait_for_port(cls.postfix_port)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "postfix_dir", None):
            harness.run(["postfix", "-c", cls.postfix_dir / "etc", "abort"], check=False)
            shutil.rmtree(cls.postfix_dir, ignore_errors=True)
        if os.environ.get("SHOWLOG"):
            print(cls.proxy.log()[-6000:])
            for p in cls.procs:
                print(p.log()[-3000:])
        cls.proxy.stop()
        cls.tls12.close()
        for p in cls.procs:
            if p.proc.poll() is not None:
                print(f"\n{p.args[3]} exited early with {p.proc.returncode}:\n{p.log()[-2000:]}")
            p.stop()
        cls.dns.terminate()
        cls.dns.wait(5)
        cls._wd.__exit__(None, None, None)

    def count(self, sink):
        return len(harness.maildir_messages(self.sinks[sink]))

    def transaction(self, rcpts, body=b"Subject: t\r\n\r\nhello\r\n"):
        """Returns ([rcpt replies], data reply or None)."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            s.ehlo("mta.example.org")
            code, _ = s.mail("sender@example.org")
            self.assertEqual(code, 250)
            replies = [s.rcpt(r) for r in rcpts]
            data = s.data(body) if any(c == 250 for c, _ in replies) else None
            return replies, data

    def test_domain_policy_fails_over_to_the_mx_whose_certificate_matches(self):
        before = (self.count("bad"), self.count("good"))
        replies, data = self.transaction(["user@partner.test"])
        self.assertEqual(replies[0][0], 250, replies)
        self.assertEqual(data[0], 250, data)
        self.assertEqual(self.count("bad"), before[0], "delivered to the host whose certificate failed")
        self.assertEqual(self.count("good"), before[1] + 1)
        log = self.proxy.log()
        self.assertIn("trying the next host", log)
        self.assertIn("rule=one-node-deep", log)
        # The transaction line names the route, the host used and its TLS verdict.
        self.assertRegex(log, r"txn from=<sender@example\.org> to=<user@partner\.test> .*upstream=mx:partner\.test "
                              r"result=\"250 .* host=mx2\.partner\.test:\d+ tls=\"TLSv1\.3 passed "
                              r"matched=mail\.partner\.test rule=one-node-deep\"")

    def test_opportunistic_delivers_in_plain_text(self):
        before = self.count("plain")
        replies, data = self.transaction(["user@plain.test"])
        self.assertEqual((replies[0][0], data[0]), (250, 250))
        self.assertEqual(self.count("plain"), before + 1)

    def test_encrypt_without_starttls_defers_and_nothing_crosses(self):
        before = self.count("plain")
        replies, data = self.transaction(["user@strict.test"])
        self.assertEqual(replies[0][0], 451, replies)
        self.assertIn(b"4.7.5", replies[0][1])
        self.assertIsNone(data)
        self.assertEqual(self.count("plain"), before)

    def test_encrypt_with_on_failure_reject_gives_550(self):
        replies, _ = self.transaction(["user@strictr.test"])
        self.assertEqual(replies[0][0], 550, replies)
        self.assertIn(b"5.7.1", replies[0][1])

    def test_null_mx_and_nxdomain(self):
        replies, _ = self.transaction(["a@nullmx.test", "b@nothing.test"])
        self.assertEqual(replies[0][0], 556, replies)
        self.assertIn(b"5.1.10", replies[0][1])
        self.assertEqual(replies[1][0], 550, replies)
        self.assertIn(b"5.1.2", replies[1][1])

    def test_recipient_on_another_route_gets_452_and_the_retry_delivers_it_once(self):
        before = (self.count("good"), self.count("plain"))
        replies, data = self.transaction(["a@partner.test", "b@plain.test", "c@partner.test"])
        self.assertEqual([c for c, _ in replies], [250, 452, 250], replies)
        self.assertIn(b"4.5.3", replies[1][1])
        self.assertEqual(data[0], 250)
        self.assertEqual((self.count("good"), self.count("plain")), (before[0] + 1, before[1]))
        # The client retries the deferred recipient in a new transaction.
        replies, data = self.transaction(["b@plain.test"])
        self.assertEqual((replies[0][0], data[0]), (250, 250))
        self.assertEqual((self.count("good"), self.count("plain")), (before[0] + 1, before[1] + 1))

    def test_same_route_and_policy_share_a_transaction_another_policy_does_not(self):
        before = self.count("plain")
        replies, data = self.transaction(["a@plain.test", "b@sameroute.test", "c@otherpolicy.test"])
        self.assertEqual([c for c, _ in replies], [250, 250, 452], replies)
        self.assertEqual(data[0], 250)
        self.assertEqual(self.count("plain"), before + 1)  # one message for both recipients
        newest = max(harness.maildir_messages(self.sinks["plain"]), key=lambda p: p.stat().st_mtime)
        self.assertIn("hello", newest.read_text())
        self.assertRegex(self.proxy.log(), r"rcpt domain=otherpolicy\.test routes elsewhere \(policy=otherpolicy\.test\)")

    def refused(self, domain, sink, code=451, enhanced=b"4.7.5", reason=""):
        before = self.count(sink)
        replies, data = self.transaction([f"user@{domain}"])
        self.assertEqual(replies[0][0], code, replies)
        self.assertIn(enhanced, replies[0][1])
        self.assertIsNone(data)
        self.assertEqual(self.count(sink), before, f"mail crossed to {sink} although the policy failed")
        if reason:  # in what follows the domain's name, which the reply also carries
            self.assertIn(reason, replies[0][1].decode().split(f"{domain} not satisfied", 1)[1])

    def delivered(self, domain, sink):
        before = self.count(sink)
        replies, data = self.transaction([f"user@{domain}"])
        self.assertEqual((replies[0][0], data[0] if data else None), (250, 250), replies)
        self.assertEqual(self.count(sink), before + 1)

    def test_validate_refuses_an_untrusted_chain(self):
        self.refused("validate-untrusted.test", "untrusted", reason="untrusted")

    def test_encrypt_accepts_an_untrusted_chain(self):
        self.delivered("encrypt-untrusted.test", "untrusted")

    def test_validate_refuses_an_expired_certificate(self):
        self.refused("validate-expired.test", "expired", reason="expired")

    def test_validate_refuses_a_revoked_certificate(self):
        self.refused("validate-revoked.test", "revoked", reason="revoked")

    def test_a_policy_with_only_a_crl_keeps_the_global_trust_anchors(self):
        self.delivered("crl-only.test", "good")

    def test_domain_secure_refuses_a_wrong_name_an_untrusted_chain_and_no_starttls(self):
        self.refused("secure-wrongname.test", "bad", reason="names presented")
        self.refused("secure-untrusted.test", "untrusted", reason="untrusted")
        self.refused("secure-plain.test", "plain", reason="STARTTLS")

    def test_opportunistic_retries_in_plain_text_after_a_failed_handshake(self):
        self.delivered("tlsfail-opportunistic.test", "tlsfail")
        self.assertIn("connected (plain text after a failed handshake)", self.proxy.log())
        # From encrypt up a failed handshake is a failure, never a reason for plain text.
        self.refused("tlsfail-encrypt.test", "tlsfail", reason="handshake")

    def test_min_tls_and_ciphers_of_a_policy_bind_the_next_hop_handshake(self):
        # Control: the TLS 1.2 next hop is fine for a policy without either key.
        n = len(self.tls12.messages())
        replies, data = self.transaction(["user@tls12.test"])
        self.assertEqual((replies[0][0], data[0] if data else None), (250, 250), replies)
        self.assertEqual(len(self.tls12.messages()), n + 1)
        self.assertTrue(self.tls12.messages()[-1]["tls"])
        harness.wait_for_log(self.proxy, r"txn from=<sender@example\.org> to=<user@tls12\.test> .*tls=\"TLSv1\.2 ")
        # min_tls 1.3 and a cipher list it does not share: no handshake, 451, nothing crosses.
        for domain in ("tls13-only.test", "chacha-only.test"):
            with self.subTest(domain=domain):
                replies, data = self.transaction([f"user@{domain}"])
                self.assertEqual(replies[0][0], 451, replies)
                self.assertIn(b"4.7.5", replies[0][1])
                self.assertIsNone(data)
                self.assertIn("handshake", replies[0][1].decode().split(f"{domain} not satisfied", 1)[1])
        self.assertEqual(len(self.tls12.messages()), n + 1, "mail crossed although the handshake was refused")
        harness.wait_for_log(self.proxy, r"tls=out upstream=static:tls13-only\.test .*result=failed .*protocol version")
        harness.wait_for_log(self.proxy, r"tls=out upstream=static:chacha-only\.test .*result=failed .*handshake failure")

    def test_validate_does_not_check_names(self):
        self.delivered("validate-wrongname.test", "bad")

    def test_domain_refuses_a_name_two_nodes_deep(self):
        self.refused("deep.test", "deep", reason="mail.us.deep.test")

    def test_domain_refuses_a_wildcard_over_the_parent(self):
        self.refused("wild.test", "parentwild", reason="*.test")

    def test_domain_refuses_a_partial_wildcard_with_reject(self):
        self.refused("partial.test", "partial", code=550, enhanced=b"5.7.1")

    def test_domain_secure_presents_our_client_certificate(self):
        self.delivered("secure.test", "good")
        sink_log = next(p for p in self.procs if "127.0.0.3" in p.args[3]).log()
        self.assertRegex(sink_log, r"sni=mx2\.partner\.test client_certificate=subject=\"CN=relay\.example\.org\"")

    def test_domain_secure_presents_the_client_certificate_the_policy_names(self):
        # client_certificate: client.example.org, a client-only certificate (clientAuth EKU).
        self.delivered("secure-client.test", "good")
        sink_log = next(p for p in self.procs if "127.0.0.3" in p.args[3]).log()
        self.assertRegex(sink_log, r"sni=mx2\.partner\.test client_certificate=subject=\"CN=client\.example\.org\"")
        self.assertNotIn("certificate refused", self.proxy.log())

    def test_mode_testing_relays_and_logs(self):
        before = self.count("bad")
        replies, data = self.transaction(["user@testing.test"])
        self.assertEqual((replies[0][0], data[0]), (250, 250))
        self.assertEqual(self.count("bad"), before + 1)
        self.assertIn("mode=testing reason=would refuse", self.proxy.log())

    def test_postfix_relayhost_through_dsproxy_to_the_partner(self):
        # Postfix as the sending MTA, dsproxy as its relayhost, the partner at domain-secure.
        self.start_postfix()
        before = self.count("good")
        with smtplib.SMTP("127.0.0.1", self.postfix_port, timeout=30) as s:
            s.sendmail("alice@contoso.test", ["bob@secure.test"], "Subject: via postfix\r\n\r\nhello\r\n")
        # The sink stores the message, then answers 250; dsproxy logs its txn line and answers
        # Postfix, which logs status=sent after that: each is waited for, in that order.
        maillog_path = self.postfix_dir / "maillog"
        sent = re.compile(r"to=<bob@secure\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+.*status=sent")
        harness.wait_until(lambda: self.count("good") > before, 30)
        harness.wait_until(lambda: maillog_path.exists() and sent.search(maillog_path.read_text(errors="replace")), 30)
        maillog = maillog_path.read_text(errors="replace")
        self.assertEqual(self.count("good"), before + 1, maillog[-2000:])
        self.assertRegex(maillog, sent)
        # The partner leg was domain-secure: verified, names matched, our certificate presented.
        harness.wait_for_log(self.proxy, r"txn from=<alice@contoso\.test> to=<bob@secure\.test> .*tls=\"TLSv1\.3 passed "
                                         r"matched=mail\.partner\.test rule=one-node-deep\"")
        newest = max(harness.maildir_messages(self.sinks["good"]), key=lambda p: p.stat().st_mtime)
        self.assertIn("Subject: via postfix", newest.read_text())

    def test_verified_connection_serves_the_next_transaction_to_the_same_route(self):
        before = self.count("good")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            s.ehlo("mta.example.org")
            for i in range(2):
                self.assertEqual(s.mail("sender@example.org")[0], 250)
                self.assertEqual(s.rcpt("user@partner.test")[0], 250)
                self.assertEqual(s.data(f"Subject: reuse {i}\r\n\r\nhello\r\n".encode())[0], 250)
        self.assertEqual(self.count("good"), before + 2)
        self.assertIn("(connection reused)", self.proxy.log())

    def test_policy_outcomes_and_verification_failures_are_counted(self):
        # docs/design.md §6.3 outcomes per recipient-domain entry (issue 8 metrics).
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        key, failures = "dsproxy_policy_outcomes_total", "dsproxy_tls_verification_failures_total"
        before = harness.scrape(url)
        self.transaction(["user@partner.test"])       # mx1 fails the names, mx2 passes
        self.transaction(["user@strict.test"])        # encrypt, no STARTTLS anywhere: refused
        self.transaction(["user@testing.test"])       # domain, mode testing: relayed over a failing host
        self.transaction(["user@testing-plain.test"])  # encrypt, mode testing: relayed in plain text
        self.transaction(["user@plain.test"])         # the default policy
        after = harness.scrape(url)

        def moved(name, labels):
            return harness.metric_sample(after, name, labels) - harness.metric_sample(before, name, labels)

        self.assertEqual(moved(key, 'direction="outbound",domain="partner.test",level="domain",outcome="passed"'), 1)
        self.assertEqual(moved(key, 'direction="outbound",domain="strict.test",level="encrypt",outcome="refused"'), 1)
        self.assertEqual(moved(key, 'direction="outbound",domain="testing.test",level="domain",'
                                    'outcome="would_refuse"'), 1)
        self.assertEqual(moved(key, 'direction="outbound",domain="testing-plain.test",level="encrypt",'
                                    'outcome="would_refuse"'), 1)
        self.assertEqual(moved(key, 'direction="outbound",domain="other",level="opportunistic",outcome="passed"'), 1)
        self.assertNotIn('domain="plain.test"', after)
        self.assertEqual(moved(failures, 'leg="out",level="domain",reason="domain_name_mismatch"'), 2)
        self.assertRegex(self.proxy.log(), r"mode=testing reason=would refuse: no TLS \(level encrypt \(testing\)\)")

    def test_client_outside_allowed_clients_is_refused(self):
        mark = self.proxy.log_mark()
        with self.assertRaises(smtplib.SMTPConnectError) as ctx:
            smtplib.SMTP("127.0.0.1", self.denied_port, timeout=10)
        self.assertEqual(ctx.exception.smtp_code, 554)
        harness.wait_for_log(self.proxy, r"client=127\.0\.0\.1 reason=not in allowed_clients of listener \w+: 554",
                             since=mark)


class DnsFailures(unittest.TestCase):
    """docs/design.md §1/§6.3 (RFC 5321 §5): a DNS server that answers SERVFAIL, or none at all,
    makes the RCPT a 4xx (the sending MTA retries), never a 5xx."""

    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-outbound-dns-")
        w = cls._wd.__enter__()
        cls.stubs, cls.proxies, cls.ports = [], {}, {}
        here = Path(__file__).resolve().parent
        for mode in ("servfail", "silent"):
            stub = subprocess.Popen([sys.executable, str(here / "dns_stub.py"), mode], stdout=subprocess.PIPE, text=True)
            cls.stubs.append(stub)
            dns_port = int(stub.stdout.readline())
            port = harness.free_port()
            (w / f"{mode}.yaml").write_text(f"""
process: {{allow_root: true}}
listeners:
  smarthost:
    role: outbound
    listen: ["127.0.0.1:{port}"]
    fqdn: relay.example.org
    tls: none
    allowed_clients: ["127.0.0.0/8"]
outbound:
  dns_servers: ["127.0.0.1:{dns_port}"]
  trust_anchors: []  # dnsmasq does not sign: no DNSSEC validation
  dns_timeout: 1s
  dns_tries: 1
""")
            cls.proxies[mode] = harness.Process([DSPROXY, "run", "-c", w / f"{mode}.yaml"], w / f"{mode}.log")
            harness.wait_for_port(port, proc=cls.proxies[mode].proc)
            cls.ports[mode] = port

    @classmethod
    def tearDownClass(cls):
        for p in cls.proxies.values():
            p.stop()
        for s in cls.stubs:
            s.kill()
            s.wait(5)
        cls._wd.__exit__(None, None, None)

    def rcpt(self, mode):
        with smtplib.SMTP("127.0.0.1", self.ports[mode], timeout=30) as s:
            s.ehlo("mta.example.org")
            self.assertEqual(s.mail("sender@example.org")[0], 250)
            return s.rcpt("user@partner.test")

    def test_servfail_defers_the_recipient(self):
        code, text = self.rcpt("servfail")
        self.assertEqual(code, 451, text)
        self.assertIn(b"4.4.3", text)

    def test_no_answer_defers_the_recipient_within_the_dns_timeout(self):
        start = time.monotonic()
        code, text = self.rcpt("silent")
        self.assertEqual(code, 451, text)
        self.assertIn(b"4.4.3", text)
        self.assertLess(time.monotonic() - start, 10)


if __name__ == "__main__":
    DSPROXY = sys.argv.pop(1)
    unittest.main(verbosity=2)
