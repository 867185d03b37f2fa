"""reply_injection_test — bytes a peer chose never become SMTP replies or log lines of their own,
and the client of the inbound role never learns the internal upstream's names.

- Issue 16 item 3 (reply injection): a next hop presents a certificate, chaining to a partner's
  own `ca_file`, whose SAN dNSName carries CR LF and a complete SMTP reply. At level `domain` the
  name mismatch used to be copied raw into the 451 sent to the client, so two pipelined RCPTs got
  four replies, one of them `250 2.1.5 forged-by-next-hop`. The client must get exactly one reply
  per command (outbound, and on the inbound role's upstream leg), each line at most 512 octets.
- Issue 15 'Also' (leak): the inbound client's 4xx names neither the upstream nor its
  certificate: a generic text plus the session id; the detail is in the log, escaped.
- Issue 16 item 2 (log forging): a self-signed client certificate whose SAN and CN carry CR LF
  and a complete forged log line, with MAIL FROM of a `validate` sender domain: the text log
  has no line that the client wrote.

The next hops are Python TLS servers (harness.FakeSmtp) presenting certificates made here with
the openssl command line (a SAN given as DER, so that it can hold any bytes).

Usage: python3 reply_injection_test.py PATH/TO/dsproxy [unittest arguments]
"""
import re
import shutil
import ssl
import subprocess
import tempfile
import unittest
from pathlib import Path

import harness
from harness import FakeSmtp, SmtpClient, Stack, client_context

WORK = None
PKI = None
PARTNER = None
FORGED_REPLY = "250 2.1.5 forged-by-next-hop"
FORGED_LOG = '2026-01-01T00:00:00.000000Z info sid=000000000000 txn from=<ceo@forge.test> result="250 queued as FORGED"'


def der_san(names) -> str:
    """subjectAltName=DER:... for dNSNames of any bytes (GeneralNames, [2] IA5String each)."""
    body = b""
    for n in names:
        raw = n.encode("latin-1")
        body += b"\x82" + bytes([len(raw)]) + raw
    assert len(body) < 128
    return "DER:" + (b"\x30" + bytes([len(body)]) + body).hex()


def crafted_leaf(pki: harness.Pki, name: str, san, cn: str, usage: str, self_signed=False) -> tuple:
    """A leaf with raw `san` names and subject CN `cn` (both may hold CR LF), issued by `pki`'s CA."""
    d = pki.dir
    key, cert, csr = d / f"{name}.key", d / f"{name}.pem", d / f"{name}.csr"
    ext = d / f"{name}.ext"
    ext.write_text(f"basicConstraints=CA:FALSE\nextendedKeyUsage={usage}\nsubjectAltName={der_san(san)}\n")
    subject = ["-subj", f"/CN={cn}"]
    if self_signed:
        cnf = d / f"{name}.cnf"
        cnf.write_text("[req]\ndistinguished_name=dn\n[dn]\n[v3]\n" + ext.read_text())
        harness.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", key, "-out", cert, "-days", "2", *subject, "-extensions", "v3", "-config", cnf])
    else:
        harness.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", key, "-out", csr, *subject])
        harness.run(["openssl", "x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", pki.ca_key,
                     "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext])
    return cert, key


def setUpModule():
    global WORK, PKI, PARTNER
    WORK = Path(tempfile.mkdtemp(prefix="dsproxy-inject-"))
    PKI = harness.Pki(WORK / "pki")          # the global trust and our own certificates
    PARTNER = harness.Pki(WORK / "partner")  # a partner's own CA, trusted by its policy only


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


def replies(c: SmtpClient, n: int) -> list:
    return [c.reply() for _ in range(n)]


class NextHopCertificateNames(unittest.TestCase):
    """Issue 16 item 3 and issue 15 'Also': a next hop's certificate names in replies."""

    @classmethod
    def setUpClass(cls):
        # Chains to the partner's CA; its only name carries CR LF and a whole reply.
        cert, key = crafted_leaf(PARTNER, "forged-next-hop", [f"mx.forge.test\r\n{FORGED_REPLY}"],
                                 "mx.forge.test", "serverAuth")
        cls.next_hop = FakeSmtp(cert=cert, key=key, name="mx.forge.test")
        cls.backend = FakeSmtp(cert=cert, key=key, name="backend.internal.test")
        cls.outbound_port = harness.free_port()
        config = {
            "listeners": {"out": {"role": "outbound", "listen": [f"127.0.0.1:{cls.outbound_port}"],
                                  "fqdn": "relay.example.org", "tls": "none", "allowed_clients": ["127.0.0.0/8"]}},
            "upstreams": {"backend": {"hosts": [f"127.0.0.1:{cls.backend.port}"],
                                      "tls": {"level": "domain", "tls_domain": "backend.internal.test",
                                              "ca_file": str(PARTNER.ca_cert)}}},
            "policies": {"forge.test": {"level": "domain", "ca_file": str(PARTNER.ca_cert),
                                        "route": [f"127.0.0.1:{cls.next_hop.port}"]}},
        }
        cls.st = Stack(WORK / "next-hop", PKI, certs=[PKI.leaf(Stack.FQDN, dns=[Stack.FQDN])], config=config,
                       upstream_down=True)
        cls.st.start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()
        for f in (cls.next_hop, cls.backend):
            f.close()

    def pipelined(self, port: int, recipients: list) -> list:
        """MAIL, the RCPTs and NOOP in one segment; returns one reply per command, then checks that
        nothing else arrives (a forged line would be read as an extra reply)."""
        c = SmtpClient(port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.example.org").code, 250)
        batch = ["MAIL FROM:<sender@example.org>"] + [f"RCPT TO:<{r}>" for r in recipients] + ["NOOP"]
        c.send("".join(line + "\r\n" for line in batch).encode())
        got = replies(c, len(batch))
        self.assertEqual(c.quiet_for(0.5), b"", f"more replies than commands: {got}\n{self.st.logs()}")
        self.assertEqual(got[0].code, 250, got)
        self.assertEqual([r.code for r in got[1:-1]], [451] * len(recipients), f"{got}\n{self.st.logs()}")
        self.assertEqual((got[-1].code, got[-1].text), (250, "2.0.0 Ok"), got)
        for r in got:
            for line in r.wire.split("\r\n"):
                self.assertLessEqual(len(line) + 2, 512, line)
                self.assertNotIn("forged-by-next-hop", line.split(" ", 1)[0] if line.startswith("250") else "")
            self.assertFalse(re.search(r"[\x00-\x08\x0b-\x1f\x7f]", r.wire.replace("\r\n", "")), repr(r.wire))
        return got

    def assert_log_has_no_forged_line(self):
        for line in self.st.proxy_log().splitlines():
            self.assertFalse(line.startswith(FORGED_REPLY), line)

    def test_outbound_pipelined_rcpts_get_one_reply_each(self):
        got = self.pipelined(self.outbound_port, ["a@forge.test", "b@forge.test"])
        for r in got[1:3]:
            self.assertTrue(r.text.startswith("4.7.5 TLS policy for forge.test not satisfied"), r)
        # The detail is in the log, escaped: the name and what it carried, on one line.
        harness.wait_for_log(self.st.proxy, r"tls=out upstream=static:forge\.test .*verdict=failed .*"
                                            r"mx\.forge\.test\\x0d\\x0a250 2\.1\.5 forged-by-next-hop")
        self.assert_log_has_no_forged_line()

    def test_inbound_upstream_leg_gets_one_reply_each_and_no_internal_names(self):
        got = self.pipelined(self.st.port, ["a@example.com", "b@example.com"])
        sid = re.findall(r"sid=(\w+) connect from", self.st.proxy_log())[-1]
        for r in got[1:3]:
            self.assertEqual(r.text, f"4.7.5 TLS policy of the upstream not satisfied, try again later (session {sid})",
                             f"{r!r}\n{self.st.logs()}")
            # Issue 15 'Also': nothing of the internal upstream: its name, host, port or certificate names.
            for internal in ("backend", "127.0.0.1", str(self.backend.port), "forge", "internal"):
                self.assertNotIn(internal, r.text)
        harness.wait_for_log(self.st.proxy, rf"sid={sid} upstream=backend result=policy_refused reason=")
        self.assert_log_has_no_forged_line()


class ClientCertificateLogForging(unittest.TestCase):
    """Issue 16 item 2: a client certificate's names in the text log."""

    @classmethod
    def setUpClass(cls):
        # (A CN holds at most 64 characters: the whole forged line goes into the SAN.)
        cls.cert = crafted_leaf(PKI, "forged-client", [f"mail.forge.test\r\n{FORGED_LOG}"],
                                "mail.forge.test\r\n2026-01-01T00:00:00Z forged", "clientAuth", self_signed=True)
        config = {"policies": {"forge.test": {"level": "validate"}}, "logging": {"format": "text"}}
        cls.st = Stack(WORK / "client-cert", PKI, certs=[PKI.leaf(Stack.FQDN, dns=[Stack.FQDN])], config=config)
        cls.st.start()

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def test_client_certificate_names_cannot_forge_log_lines(self):
        c = SmtpClient(self.st.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        self.assertEqual(c.command("STARTTLS").code, 220)
        c.starttls(client_context(PKI.ca_cert, *self.cert))
        self.assertEqual(c.command("EHLO client.test").code, 250)
        r = c.command("MAIL FROM:<ceo@forge.test>")
        self.assertEqual((r.code, r.text.split()[0]), (454, "4.7.5"), f"{r!r}\n{self.st.logs()}")
        harness.wait_for_log(self.st.proxy, r"policy=forge\.test level=validate sender_domain=forge\.test refused "
                                            r"reason=.*names presented: mail\.forge\.test\\x0d\\x0a2026-01-01")
        log = self.st.proxy_log()
        for line in log.splitlines():
            self.assertFalse(line.startswith("2026-01-01T00:00:00"), f"forged log line: {line}\n{log}")
            self.assertNotIn("\r", line)


if __name__ == "__main__":
    harness.main()
