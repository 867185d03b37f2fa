"""tls_policy_test — dsproxy's TLS as real TLS clients see it: the certificate served for the
listener's fqdn and for an SNI name (docs/design.md §4.1, with `openssl s_client -starttls smtp`), and
the inbound Domain Security matrix on sender-domain policies (docs/design.md §6.2) with client
certificates from a test CA made here (swaks --tls-cert, Python ssl/smtplib).

Usage: python3 tls_policy_test.py PATH/TO/dsproxy [unittest arguments]
"""
import os
import shutil
import signal
import smtplib
import ssl
import subprocess
import tempfile
import unittest
from pathlib import Path

import harness
from harness import Stack, SmtpClient, client_context, dsproxy_received, message, peer_subject_cn, s_client, swaks

WORK = None
PKI = None
CERTS = {}


def setUpModule():
    global WORK, PKI
    WORK = Path(tempfile.mkdtemp(prefix="dsproxy-tls-"))
    PKI = harness.Pki(WORK / "pki")
    # Server certificates for the store directory.
    CERTS["mx"] = PKI.leaf("mx.example.com", dns=["mx.example.com"], usage="serverAuth")
    CERTS["alt"] = PKI.leaf("alt.example.net", dns=["alt.example.net"], usage="serverAuth")
    CERTS["wild"] = PKI.leaf("wildcard.example.org", dns=["*.example.org"], usage="serverAuth")
    # Client certificates of sending MTAs.
    CERTS["partner"] = PKI.leaf("mail.partner.test", dns=["mail.partner.test"], usage="clientAuth")
    CERTS["strict"] = PKI.leaf("mail.strict.test", dns=["mail.strict.test"], usage="clientAuth")
    CERTS["other"] = PKI.leaf("mail.other.test", dns=["mail.other.test"], usage="clientAuth")
    CERTS["deep"] = PKI.leaf("mail.us.partner.test", dns=["mail.us.partner.test"], usage="clientAuth")
    CERTS["selfsigned"] = PKI.leaf("self.partner.test", dns=["mail.partner.test"], usage="clientAuth",
                                   self_signed=True)


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


class CertificateSelection(unittest.TestCase):
    """openssl s_client -starttls smtp sees the certificate chosen by docs/design.md §4.1."""

    @classmethod
    def setUpClass(cls):
        cls.st = Stack(WORK / "selection", PKI, certs=[CERTS["mx"], CERTS["alt"], CERTS["wild"]])
        cls.st.start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def served(self, *args):
        out = s_client(self.st.port, "-CAfile", PKI.ca_cert, *args)
        self.assertIn("250", out, out)  # s_client got through EHLO and STARTTLS
        return out

    def test_listener_fqdn(self):
        out = self.served()
        self.assertEqual(peer_subject_cn(out), "mx.example.com", out)
        self.assertIn("Verify return code: 0 (ok)", out)

    def test_sni_name_in_store(self):
        out = self.served("-servername", "alt.example.net")
        self.assertEqual(peer_subject_cn(out), "alt.example.net", out)
        self.assertIn("Verify return code: 0 (ok)", out)
        self.assertIn("sni=alt.example.net", self.st.proxy_log())

    def test_sni_name_covered_by_wildcard(self):
        out = self.served("-servername", "mail.example.org")
        self.assertEqual(peer_subject_cn(out), "*.example.org", out)

    def test_sni_name_not_in_store_gets_fqdn_certificate(self):
        out = self.served("-servername", "unknown.example.com")
        self.assertEqual(peer_subject_cn(out), "mx.example.com", out)


# Policies for sender domains (docs/design.md §6.2).
POLICIES = {
    "policies": {
        "partner.test": {"level": "domain-secure"},                          # on_failure: defer
        "strict.test": {"level": "domain-secure", "on_failure": "reject"},
        "trial.test": {"level": "domain-secure", "mode": "testing"},
        "tls13.test": {"level": "encrypt", "min_tls": "1.3"},
        "chacha.test": {"level": "encrypt", "ciphers": "ECDHE-ECDSA-CHACHA20-POLY1305", "on_failure": "reject"},
    }
}


class DomainSecure(unittest.TestCase):
    """The inbound domain-secure matrix: who may send as a sender domain with a policy."""

    @classmethod
    def setUpClass(cls):
        cls.st = Stack(WORK / "domain-secure", PKI, certs=[CERTS["mx"]], config=POLICIES)
        cls.st.start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def session(self, tls=True, cert=None):
        c = SmtpClient(self.st.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        if tls:
            self.assertEqual(c.command("STARTTLS").code, 220)
            pair = CERTS[cert] if cert else (None, None)
            c.starttls(client_context(PKI.ca_cert, *pair))
            self.assertEqual(c.command("EHLO client.test").code, 250)
        return c

    def assert_mail(self, c, sender, code, enhanced):
        r = c.command(f"MAIL FROM:<{sender}>")
        msg = f"{r!r}\n{self.st.logs()}"
        self.assertEqual(r.code, code, msg)
        self.assertTrue(r.text.startswith(enhanced + " "), msg)
        return r

    def tls_session(self, max_version=None, ciphers=None):
        ctx = client_context(PKI.ca_cert)
        if max_version:
            ctx.maximum_version = max_version
        if ciphers:
            ctx.set_ciphers(ciphers)
        c = SmtpClient(self.st.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        self.assertEqual(c.command("STARTTLS").code, 220)
        c.starttls(ctx)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        return c

    def test_min_tls_of_a_sender_policy_binds_the_client_leg(self):
        self.assert_mail(self.tls_session(), "alice@tls13.test", 250, "2.1.0")
        self.assert_mail(self.tls_session(max_version=ssl.TLSVersion.TLSv1_2), "alice@tls13.test", 454, "4.7.5")
        harness.wait_for_log(self.st.proxy, r"policy=tls13\.test level=encrypt sender_domain=tls13\.test refused "
                                            r"reason=\"TLSv1\.2 is below the policy's min_tls 1\.3\"")

    def test_ciphers_of_a_sender_policy_bind_the_client_leg(self):
        tls12 = ssl.TLSVersion.TLSv1_2
        self.assert_mail(self.tls_session(tls12, "ECDHE-ECDSA-CHACHA20-POLY1305"), "alice@chacha.test", 250, "2.1.0")
        self.assert_mail(self.tls_session(tls12, "ECDHE-ECDSA-AES128-GCM-SHA256"), "alice@chacha.test", 550, "5.7.1")
        harness.wait_for_log(self.st.proxy, r"sender_domain=chacha\.test refused reason=\"cipher "
                                            r"ECDHE-ECDSA-AES128-GCM-SHA256 is not in the policy's ciphers\"")
        # The list is OpenSSL's, for TLS 1.2: a TLS 1.3 session is not refused by it.
        self.assert_mail(self.tls_session(), "alice@chacha.test", 250, "2.1.0")

    def test_no_tls_follows_on_failure(self):
        # docs/design.md §6.2: STARTTLS offered but not used: 454 4.7.0 (defer), 530 5.7.1 (reject).
        self.assert_mail(self.session(tls=False), "alice@partner.test", 454, "4.7.0")
        self.assert_mail(self.session(tls=False), "alice@strict.test", 530, "5.7.1")

    def test_tls_without_client_certificate_follows_on_failure(self):
        # Issue 15 item 6: a missing client certificate was 530 whatever on_failure said, so a
        # domain-secure sender under `defer` (the default) bounced instead of retrying.
        for sender, code, enhanced in (("alice@partner.test", 454, "4.7.0"), ("alice@strict.test", 530, "5.7.1")):
            with self.subTest(sender=sender):
                ctx = client_context(PKI.ca_cert)
                with smtplib.SMTP("127.0.0.1", self.st.port, local_hostname="client.test", timeout=10) as s:
                    s.starttls(context=ctx)
                    s.ehlo("client.test")
                    got, text = s.mail(sender)
                self.assertEqual((got, text.split()[0].decode()), (code, enhanced), self.st.logs())
                self.assertIn(b"client certificate is required", text)
        self.assertRegex(self.st.proxy_log(), r"policy=partner\.test level=domain-secure sender_domain=partner\.test "
                                              r"refused reason=\"no client certificate\"")

    def test_wrong_domain_certificate_defer_454(self):
        c = self.session(cert="other")
        self.assert_mail(c, "alice@partner.test", 454, "4.7.5")
        self.assertRegex(self.st.proxy_log(), r"policy=partner\.test level=domain-secure sender_domain=partner\.test "
                                              r"refused reason=\"[^\"]*names presented: mail\.other\.test")

    def test_wrong_domain_certificate_reject_550(self):
        c = self.session(cert="other")
        self.assert_mail(c, "alice@strict.test", 550, "5.7.1")

    def test_two_nodes_deep_is_not_accepted(self):
        c = self.session(cert="deep")
        self.assert_mail(c, "alice@partner.test", 454, "4.7.5")

    def test_untrusted_chain_is_not_accepted(self):
        c = self.session(cert="selfsigned")
        self.assert_mail(c, "alice@partner.test", 454, "4.7.5")
        c2 = self.session(cert="selfsigned")
        self.assert_mail(c2, "alice@strict.test", 550, "5.7.1")

    def test_one_node_deep_certificate_accepted_and_marked(self):
        cert, key = CERTS["partner"]
        before = len(self.st.messages())
        r = swaks(self.st.port, "-tls", "--tls-cert", cert, "--tls-key", key, "--from", "alice@partner.test",
                  "--to", "bob@example.com", "--ehlo", "mail.partner.test", "--header", "Subject: domain secured")
        self.assertEqual(r.returncode, 0, f"{r}\n{self.st.logs()}")
        self.assertEqual(r.final_dot_reply()[0], 250, r)
        texts = [t for t in self.st.message_texts() if "Subject: domain secured" in t]
        self.assertEqual(len(self.st.messages()), before + 1)
        self.assertEqual(len(texts), 1)
        h = dsproxy_received(texts[0])
        self.assertIn("client certificate verified; domain-secured)", h)
        self.assertRegex(self.st.proxy_log(), r"policy=partner\.test level=domain-secure sender_domain=partner\.test "
                                              r"verdict=passed matched=mail\.partner\.test rule=one-node-deep")

    def test_reject_policy_accepts_its_partner(self):
        c = self.session(cert="strict")
        self.assert_mail(c, "alice@strict.test", 250, "2.1.0")

    def test_policy_is_evaluated_per_transaction(self):
        c = self.session(cert="partner")
        self.assert_mail(c, "alice@partner.test", 250, "2.1.0")
        self.assertEqual(c.command("RSET").code, 250)
        self.assert_mail(c, "alice@strict.test", 550, "5.7.1")
        self.assert_mail(c, "alice@elsewhere.test", 250, "2.1.0")  # default policy: opportunistic

    def test_testing_mode_logs_and_accepts(self):
        before = len(self.st.messages())
        with smtplib.SMTP("127.0.0.1", self.st.port, local_hostname="client.test", timeout=10) as s:
            s.sendmail("alice@trial.test", ["bob@example.com"], message(subject="trial", sender="alice@trial.test")
                       .encode())
        self.assertEqual(len(self.st.messages()), before + 1, self.st.logs())
        self.assertRegex(self.st.proxy_log(), r"policy=trial\.test level=domain-secure sender_domain=trial\.test "
                                              r"mode=testing would refuse")
        text = next(t for t in self.st.message_texts() if "Subject: trial" in t)
        self.assertNotIn("domain-secured", dsproxy_received(text))

    def test_received_header_says_whether_the_client_certificate_verified(self):
        # Default policy (no check enforced): the header still records the facts.
        for cert, words in (("selfsigned", "client certificate not verified)"),
                            (None, "client certificate not presented)"),
                            ("partner", "client certificate verified)")):
            with self.subTest(cert=cert):
                c = self.session(cert=cert)
                subject = f"Subject: received {cert}"
                self.assert_mail(c, "alice@elsewhere.test", 250, "2.1.0")
                self.assertEqual(c.command("RCPT TO:<bob@example.com>").code, 250)
                self.assertEqual(c.command("DATA").code, 354)
                self.assertEqual(c.command(f"{subject}\r\n\r\nhi\r\n.").code, 250, self.st.logs())
                text = next(t for t in self.st.message_texts() if subject in t)
                self.assertIn(words, dsproxy_received(text))

    def test_no_policy_sender_needs_nothing(self):
        c = self.session(tls=False)
        self.assert_mail(c, "alice@elsewhere.test", 250, "2.1.0")


class SenderPolicyWithItsOwnCa(unittest.TestCase):
    """A sender domain's `ca_file` replaces the global anchors for that domain only
    (loaded once per configuration snapshot, not at each MAIL FROM)."""

    session = DomainSecure.session
    assert_mail = DomainSecure.assert_mail

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    @classmethod
    def setUpClass(cls):
        other = harness.Pki(WORK / "other-pki")
        config = {"policies": {"own.test": {"level": "validate", "ca_file": str(other.ca_cert)},
                               "same.test": {"level": "validate", "ca_file": str(PKI.ca_cert)}}}
        cls.st = Stack(WORK / "own-ca", PKI, certs=[CERTS["mx"]], config=config)
        cls.st.start()

    def test_own_ca_file_is_the_only_trust_for_its_domain(self):
        c = self.session(cert="partner")
        self.assert_mail(c, "alice@own.test", 454, "4.7.5")     # issued by the global CA, not own.test's
        self.assertEqual(c.command("RSET").code, 250)
        self.assert_mail(c, "alice@same.test", 250, "2.1.0")     # its ca_file is the issuing CA
        self.assertEqual(c.command("RSET").code, 250)
        self.assert_mail(c, "alice@elsewhere.test", 250, "2.1.0")  # default policy


class DomainSecureWithoutStartTls(unittest.TestCase):
    """docs/design.md §6.2: STARTTLS not offered on the listener (no certificate for its fqdn, plain text
    accepted by `without_certificate: plain`) → 454 4.7.0."""

    def test_454_when_starttls_not_offered(self):
        st = Stack(WORK / "no-starttls", PKI, certs=[],
                   config=harness.merge(POLICIES, {"listeners": {"edge": {"without_certificate": "plain"}}}))
        self.addCleanup(st.stop)
        st.start()
        c = st.client()
        self.addCleanup(c.close)
        c.reply()
        self.assertNotIn("STARTTLS", c.command("EHLO client.test").lines)
        r = c.command("MAIL FROM:<alice@partner.test>")
        self.assertEqual(r.code, 454, f"{r!r}\n{st.logs()}")
        self.assertTrue(r.text.startswith("4.7.0 "), r)


class ListenerWithoutCertificate(unittest.TestCase):
    """Issue 19 item 7, docs/design.md §4.1: a `tls: starttls` listener that no certificate serves does not
    start (one error line naming the listener and why, exit 1); a key readable by others leaves it without
    one too; `without_certificate: plain` runs it without STARTTLS by choice; a reload that would leave it
    without one is refused and the running certificate stays."""

    def run_until_exit(self, st: Stack):
        proc = harness.Process([harness.DSPROXY, "run", "-c", st.config_path], st.root / "dsproxy.log")
        self.addCleanup(proc.stop)
        try:
            rc = proc.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.fail("dsproxy run started a starttls listener without a certificate:\n" + proc.log())
        return rc, proc.log()

    def assert_one_refusal(self, rc, log):
        self.assertEqual(rc, 1, log)
        lines = [l for l in log.splitlines() if "listener edge" in l]
        self.assertEqual(len(lines), 1, log)
        self.assertRegex(lines[0], r"cannot start: listener edge: no usable certificate for mx\.example\.com "
                                   r"\(.+\): a `tls: starttls` listener does not start without one")
        self.assertIn("set `without_certificate: plain` on the listener", lines[0])
        self.assertNotIn("started with", log)

    def test_run_refuses_a_starttls_listener_without_a_certificate(self):
        st = Stack(WORK / "refused-empty", PKI, certs=[], upstream_down=True)
        self.assert_one_refusal(*self.run_until_exit(st))

    def test_run_refuses_when_the_only_key_is_readable_by_others(self):
        st = Stack(WORK / "refused-0644", PKI, certs=[CERTS["mx"]], upstream_down=True)
        os.chmod(st.certs_dir / Path(CERTS["mx"][1]).name, 0o644)  # `dsproxy cert` as root, umask 022
        rc, log = self.run_until_exit(st)
        self.assertIn("certificate refused:", log)
        self.assert_one_refusal(rc, log)

    def test_without_certificate_plain_runs_without_starttls(self):
        st = Stack(WORK / "plain-by-choice", PKI, certs=[],
                   config={"listeners": {"edge": {"without_certificate": "plain"}}})
        self.addCleanup(st.stop)
        st.start()
        self.assertRegex(st.proxy_log(), r"warn.*listener edge: no usable certificate for mx\.example\.com \(.+\): "
                                         r"STARTTLS is not offered, mail arrives in plain text "
                                         r"\(`without_certificate: plain`\)")
        c = st.client()
        self.addCleanup(c.close)
        c.reply()
        self.assertNotIn("STARTTLS", c.command("EHLO client.test").lines)
        self.assertEqual(c.command("MAIL FROM:<alice@sender.test>").code, 250)

    def test_a_reload_that_would_leave_the_listener_without_its_certificate_is_refused(self):
        st = Stack(WORK / "reload-keeps", PKI, certs=[CERTS["mx"]])
        self.addCleanup(st.stop)
        st.start()
        for f in st.certs_dir.iterdir():
            f.unlink()
        mark = st.proxy.log_mark()
        st.proxy.send_signal(signal.SIGHUP)
        line = harness.wait_for_log(st.proxy, r"reload refused: .*", since=mark).group(0)
        self.assertRegex(line, r"reload refused: listener edge: no usable certificate for mx\.example\.com \(.+\): "
                               r"a `tls: starttls` listener does not start without one.*; the running configuration "
                               r"stays")
        self.assertEqual(st.proxy.proc.poll(), None, st.logs())
        out = s_client(st.port, "-servername", "mx.example.com")
        self.assertIn("CN = mx.example.com", out, st.logs())


if __name__ == "__main__":
    harness.main()
