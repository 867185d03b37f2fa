"""starttls_attack_test — the STARTTLS attacks of "Why TLS is better without STARTTLS"
(Poddebniak et al., USENIX Security 2021) against dsproxy, on both legs, with real
sockets (docs/design.md §2 "STARTTLS hygiene", §6.1, §6.3; RFC 3207; CVE-2011-0411).

The peers that misbehave are harness.FakeSmtp servers (test doubles of a malicious
backend, next hop or man in the middle) and raw client sockets; dsproxy runs as a
real process with an inbound listener (STARTTLS offered) and an outbound listener
(static routes per recipient domain).

Client leg (dsproxy is the server):
  - command injection: commands pipelined behind STARTTLS in the same TCP segment
    are discarded, never executed inside TLS; plaintext sent after STARTTLS in a
    second segment, before the handshake, breaks the handshake and nothing runs;
  - STARTTLS twice (554 inside TLS), inside a transaction (503), with an argument
    (501); after TLS the SMTP state is reset and a new EHLO is required, and the
    EHLO reply inside TLS no longer offers STARTTLS.
Upstream leg (dsproxy is the client):
  - response injection: a reply pre-staged behind the upstream's 220 to STARTTLS
    is an attack: the transaction is refused with a 4xx and nothing (no MAIL)
    crosses, neither in plain text nor inside TLS (the older relay_test.py
    UpstreamStartTls case covers a plain backend without TLS);
  - STARTTLS stripping: a backend or next hop whose EHLO lacks STARTTLS (a MITM
    removed it), that answers STARTTLS with 454, or whose 220 is followed by bytes
    that are not TLS: with level `encrypt` the client gets 451 4.7.5 (550 5.7.1
    with on_failure: reject) and no MAIL/RCPT is ever sent in plain text;
    outbound, the next host of the route is tried and the mail goes there over TLS
    only; `opportunistic` delivers in plain text (the control);
  - capability tampering: the EHLO capabilities seen before TLS are not trusted:
    dsproxy says EHLO again inside TLS and uses only what that reply lists (SIZE,
    CHUNKING, SMTPUTF8 advertised differently before TLS change nothing).

Usage: python3 starttls_attack_test.py PATH/TO/dsproxy [unittest arguments]
"""
import json
import socket
import ssl
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

RESULTS = []  # (case, outcome) for the printed summary


def tls_client(sock: socket.socket) -> ssl.SSLSocket:
    return harness.client_context().wrap_socket(sock, server_hostname="mx.accepted.test")


class Attacks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-starttls-")
        w = cls.work = cls._wd.__enter__()
        cls.pki = harness.Pki(w / "pki")
        cert, key = cls.pki.leaf("mx.accepted.test", dns=["mx.accepted.test"])
        cls.peer_cert = cls.pki.leaf("peer.test", dns=["peer.test"])
        (w / "certs").mkdir()
        (w / "certs" / "mx.pem").write_bytes(cert.read_bytes())
        (w / "certs" / "mx.key").write_bytes(key.read_bytes())
        (w / "certs" / "mx.key").chmod(0o600)
        c, k = cls.peer_cert

        def fake(**kw):
            kw.setdefault("cert", c)
            kw.setdefault("key", k)
            return harness.FakeSmtp(**kw)

        # Upstream doubles. Inbound backends, one per upstream of the config:
        cls.fakes = {
            "good": fake(name="good.test"),
            "inject": fake(staged=b"250 2.1.0 Sender injected\r\n250 2.1.5 Recipient injected\r\n",
                           name="inject.test"),
            "strip": fake(starttls="hide", name="strip.test"),
            "refuse": fake(starttls="refuse", name="refuse.test"),
            "garbage": fake(starttls="garbage", name="garbage.test"),
            # Capability tampering: generous before TLS, strict inside it, and the reverse.
            "narrows": fake(ehlo=["PIPELINING", "CHUNKING", "8BITMIME", "SMTPUTF8", "SIZE 100000000"],
                            ehlo_tls=["PIPELINING", "8BITMIME", "SIZE 1000"], name="narrows.test"),
            "widens": fake(ehlo=["PIPELINING", "SIZE 1000"],
                           ehlo_tls=["PIPELINING", "CHUNKING", "8BITMIME", "SMTPUTF8", "SIZE 100000000"],
                           name="widens.test"),
            # Outbound next hops.
            "mx_strip": fake(starttls="hide", name="mx-strip.test"),
            "mx_good": fake(name="mx-good.test"),
            "mx_reject": fake(starttls="hide", name="mx-reject.test"),
            "mx_plain": fake(starttls="hide", name="mx-plain.test"),
        }
        f = {n: f"127.0.0.1:{s.port}" for n, s in cls.fakes.items()}
        cls.port, cls.outbound_port = harness.free_port(), harness.free_port()
        listeners, upstreams = {}, {}
        cls.inbound_ports = {}
        # One inbound listener per backend double (a listener names one upstream).
        for name in ("good", "inject", "strip", "refuse", "garbage", "narrows", "widens"):
            port = cls.port if name == "good" else harness.free_port()
            cls.inbound_ports[name] = port
            listeners[f"in_{name}"] = {"role": "inbound", "listen": [f"127.0.0.1:{port}"],
                                       "fqdn": "mx.accepted.test", "tls": "starttls", "upstream": name}
            upstreams[name] = {"hosts": [f[name]], "tls": {"level": "encrypt"}}
        # The same stripping backend under opportunistic: the control.
        cls.inbound_ports["strip_opportunistic"] = harness.free_port()
        listeners["in_strip_opportunistic"] = {
            "role": "inbound", "listen": [f"127.0.0.1:{cls.inbound_ports['strip_opportunistic']}"],
            "fqdn": "mx.accepted.test", "tls": "starttls", "upstream": "strip_opportunistic"}
        upstreams["strip_opportunistic"] = {"hosts": [f["strip"]], "tls": {"level": "opportunistic"}}
        listeners["out"] = {"role": "outbound", "listen": [f"127.0.0.1:{cls.outbound_port}"],
                            "fqdn": "mx.accepted.test", "tls": "none", "allowed_clients": ["127.0.0.0/8"]}
        config = {
            "logging": {"level": "info"},
            "process": {"allow_root": True},  # the tests run as whoever runs them, root included
            "listeners": listeners,
            "upstreams": upstreams,
            "accepted_domains": ["accepted.test"],
            "certificates": {"directories": ["certs"]},
            "trust": {"system": False, "ca_file": str(cls.pki.ca_cert)},
            "policies": {
                "default": {"level": "opportunistic"},
                "strip.test": {"level": "encrypt", "route": [f["mx_strip"]]},
                "failover.test": {"level": "encrypt", "route": [f["mx_strip"], f["mx_good"]]},
                "reject.test": {"level": "encrypt", "on_failure": "reject", "route": [f["mx_reject"]]},
                "plain.test": {"level": "opportunistic", "route": [f["mx_plain"]]},
            },
            "timeouts": {"shutdown_drain": "2s", "client": {"tls_handshake": "5s"},
                         "upstream": {"tls_handshake": "5s", "greeting": "10s", "ehlo": "10s"}},
        }
        (w / "dsproxy.yaml").write_text(json.dumps(config, indent=2))
        cls.proxy = harness.Process([harness.DSPROXY, "run", "-c", w / "dsproxy.yaml"], w / "dsproxy.log")
        harness.wait_for_log(cls.proxy, r"dsproxy \S+ started with")

    @classmethod
    def tearDownClass(cls):
        code = cls.proxy.stop()
        for s in cls.fakes.values():
            s.close()
        if RESULTS:
            print("\nSTARTTLS attack cases:")
            for case, outcome in RESULTS:
                print(f"  {case:62s} {outcome}")
        cls._wd.__exit__(None, None, None)
        if code != 0:
            raise AssertionError(f"dsproxy exited with {code}")

    def logs(self) -> str:
        return self.proxy.log()[-4000:]

    def greet(self, port=None) -> harness.SmtpClient:
        c = harness.SmtpClient(port or self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        r = c.command("EHLO client.test")
        self.assertEqual(r.code, 250)
        return c

    def starttls(self, c: harness.SmtpClient):
        r = c.command("STARTTLS")
        self.assertEqual(r.code, 220, r)
        c.starttls()
        r = c.command("EHLO client.test")
        self.assertEqual(r.code, 250, r)
        return r

    # --- client leg: command injection ------------------------------------------

    def test_commands_pipelined_behind_starttls_in_one_segment_are_discarded(self):
        c = self.greet()
        before = self.fakes["good"].mark()
        log_mark = self.proxy.log_mark()
        # One write with TCP_NODELAY: one segment, read by dsproxy in one read.
        c.send("STARTTLS\r\nMAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@accepted.test>\r\nDATA\r\n")
        self.assertEqual(c.reply().code, 220)
        c.starttls()
        unasked = c.quiet_for(1.0)
        self.assertEqual(unasked, b"", "a reply to an injected command arrived inside TLS")
        r = c.command("RCPT TO:<victim@accepted.test>")
        self.assertEqual(r.code, 503, r)  # no EHLO yet, no MAIL: nothing injected ran
        self.assertEqual(c.command("EHLO client.test").code, 250)
        r = c.command("RCPT TO:<victim@accepted.test>")
        self.assertEqual(r.code, 503, r)
        self.assertTrue(r.text.startswith("5.5.1 "), r)
        self.assertEqual(self.fakes["good"].since(before), [], "injected commands reached the backend")
        harness.wait_for_log(self.proxy, r"\d+ bytes pipelined after STARTTLS dropped", since=log_mark)
        RESULTS.append(("client: MAIL/RCPT/DATA pipelined behind STARTTLS", "discarded; 503 after TLS"))

    def test_plaintext_after_starttls_in_a_second_segment_breaks_the_handshake(self):
        c = self.greet()
        self.assertEqual(c.command("STARTTLS").code, 220)
        c.send("MAIL FROM:<evil@attacker.test>\r\n")  # before the ClientHello: read as the handshake
        with self.assertRaises((ssl.SSLError, OSError)):
            c.starttls()
            c.command("EHLO client.test")
        self.assertTrue(harness.wait_until(lambda: "tls=in result=failed" in self.proxy.log(), 5), self.logs())
        RESULTS.append(("client: plaintext after STARTTLS, second segment", "handshake fails, connection closed"))

    # --- client leg: STARTTLS twice, in a transaction ------------------------------

    def test_starttls_twice_is_refused_and_the_state_was_reset(self):
        c = self.greet()
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
        self.assertEqual(c.command("RSET").code, 250)
        r = self.starttls(c)
        self.assertNotIn("STARTTLS", r.lines, "STARTTLS offered again inside TLS")
        r = c.command("STARTTLS")
        self.assertEqual(r.code, 554, r)
        self.assertTrue(r.text.startswith("5.5.1 "), r)
        RESULTS.append(("client: STARTTLS inside TLS", r.wire.strip()))
        self.assertEqual(c.command("NOOP").code, 250)  # the session goes on inside TLS
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)

    def test_state_learned_before_tls_is_forgotten(self):
        c = self.greet()
        c.send("STARTTLS\r\n")
        self.assertEqual(c.reply().code, 220)
        c.starttls()
        r = c.command("MAIL FROM:<a@sender.test>")
        self.assertEqual(r.code, 503, r)  # RFC 3207 §4.2: a new EHLO is required
        RESULTS.append(("client: MAIL right after TLS without a new EHLO", r.wire.strip()))

    def test_starttls_inside_a_transaction_is_refused(self):
        c = self.greet()
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
        r = c.command("STARTTLS")
        self.assertEqual(r.code, 503, r)
        RESULTS.append(("client: STARTTLS after MAIL", r.wire.strip()))
        self.assertEqual(c.command("RCPT TO:<user@accepted.test>").code, 250)
        r = c.command("STARTTLS")
        self.assertEqual(r.code, 503, r)
        RESULTS.append(("client: STARTTLS after RCPT", r.wire.strip()))
        r = c.command("STARTTLS now")
        self.assertEqual(r.code, 501, r)
        RESULTS.append(("client: STARTTLS with an argument", r.wire.strip()))
        self.assertEqual(c.command("RSET").code, 250)

    # --- upstream leg: response injection ----------------------------------------

    def test_reply_staged_behind_the_upstreams_220_is_refused(self):
        c = self.greet(self.inbound_ports["inject"])
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
        r = c.command("RCPT TO:<user@accepted.test>")
        RESULTS.append(("upstream: replies staged behind 220 to STARTTLS", r.wire.strip()))
        self.assertTrue(400 <= r.code < 500, f"{r!r}\n{self.logs()}")
        self.assertIn("upstream sent plaintext after its 220 to STARTTLS", self.proxy.log())
        fake = self.fakes["inject"]
        self.assertTrue(fake.connections)
        self.assertEqual([m for m in fake.lines() if m.upper().startswith(("MAIL", "RCPT"))], [],
                         "dsproxy went on after the injected replies")
        self.assertFalse(any(conn.tls for conn in fake.connections), "dsproxy completed TLS and trusted the staged replies")

    # --- upstream leg: STARTTLS stripping ------------------------------------------

    def assert_no_plaintext_transaction(self, fake: harness.FakeSmtp):
        sent = [line for line in fake.lines(tls=False) if line.upper().startswith(("MAIL", "RCPT", "DATA", "BDAT"))]
        self.assertEqual(sent, [], f"a transaction was sent in plain text\n{self.logs()}")
        self.assertEqual(fake.messages(), [])

    def inbound_stripped(self, name: str, case: str):
        c = self.greet(self.inbound_ports[name])
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
        r = c.command("RCPT TO:<user@accepted.test>")
        RESULTS.append((case, r.wire.strip()))
        self.assertEqual(r.code, 451, f"{r!r}\n{self.logs()}")
        self.assertTrue(r.text.startswith("4.7.5 TLS policy of the upstream not satisfied"), r)
        self.assertTrue(self.fakes[name].connections, "dsproxy never reached the backend")
        self.assert_no_plaintext_transaction(self.fakes[name])

    def test_inbound_encrypt_backend_without_starttls(self):
        self.inbound_stripped("strip", "upstream (inbound, encrypt): STARTTLS removed from EHLO")
        self.assertIn("upstream does not offer STARTTLS", self.proxy.log())

    def test_inbound_encrypt_backend_refusing_starttls(self):
        self.inbound_stripped("refuse", "upstream (inbound, encrypt): STARTTLS answered 454")

    def test_inbound_encrypt_backend_answering_220_with_garbage(self):
        self.inbound_stripped("garbage", "upstream (inbound, encrypt): 220 then not TLS")

    def test_inbound_opportunistic_backend_without_starttls_is_plain(self):
        """The control: the same stripping backend under opportunistic gets the mail in plain text."""
        c = self.greet(self.inbound_ports["strip_opportunistic"])
        before = len(self.fakes["strip"].messages())
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
        self.assertEqual(c.command("RCPT TO:<user@accepted.test>").code, 250)
        self.assertEqual(c.command("DATA").code, 354)
        c.send("Subject: control\r\n\r\nplain\r\n.\r\n")
        self.assertEqual(c.reply().code, 250)
        self.assertEqual(len(self.fakes["strip"].messages()), before + 1)
        RESULTS.append(("upstream (inbound, opportunistic): STARTTLS removed", "250, delivered in plain text (control)"))

    def outbound(self, rcpt: str):
        c = harness.SmtpClient(self.outbound_port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO mta.accepted.test").code, 250)
        self.assertEqual(c.command("MAIL FROM:<a@accepted.test>").code, 250)
        return c, c.command(f"RCPT TO:<{rcpt}>")

    def test_outbound_encrypt_next_hop_without_starttls_defers(self):
        _, r = self.outbound("user@strip.test")
        RESULTS.append(("next hop (outbound, encrypt): STARTTLS removed", r.wire.strip()))
        self.assertEqual(r.code, 451, f"{r!r}\n{self.logs()}")
        self.assertTrue(r.text.startswith("4.7.5 "), r)
        self.assertTrue(self.fakes["mx_strip"].connections)
        self.assert_no_plaintext_transaction(self.fakes["mx_strip"])

    def test_outbound_encrypt_reject_gives_550(self):
        _, r = self.outbound("user@reject.test")
        RESULTS.append(("next hop (outbound, encrypt, reject): STARTTLS removed", r.wire.strip()))
        self.assertEqual(r.code, 550, f"{r!r}\n{self.logs()}")
        self.assertTrue(r.text.startswith("5.7.1 "), r)
        self.assert_no_plaintext_transaction(self.fakes["mx_reject"])

    def test_outbound_stripped_host_is_skipped_for_the_next(self):
        strip_before = len(self.fakes["mx_strip"].connections)
        c, r = self.outbound("user@failover.test")
        self.assertEqual(r.code, 250, f"{r!r}\n{self.logs()}")
        self.assertEqual(c.command("DATA").code, 354)
        c.send("Subject: failover\r\n\r\nover TLS\r\n.\r\n")
        self.assertEqual(c.reply().code, 250)
        self.assertGreater(len(self.fakes["mx_strip"].connections), strip_before, "the stripped host was not tried")
        self.assert_no_plaintext_transaction(self.fakes["mx_strip"])
        delivered = [m for m in self.fakes["mx_good"].messages() if b"failover" in m["data"]]
        self.assertEqual(len(delivered), 1)
        self.assertTrue(delivered[0]["tls"], "delivered, but not inside TLS")
        RESULTS.append(("next hop (outbound, encrypt): first host stripped, second good", "250, delivered over TLS to the second"))

    def test_outbound_opportunistic_next_hop_without_starttls_is_plain(self):
        c, r = self.outbound("user@plain.test")
        self.assertEqual(r.code, 250, f"{r!r}\n{self.logs()}")
        c.command("RSET")

    # --- upstream leg: capability tampering -----------------------------------------

    def bdat_transaction(self, name: str, size_param: int, smtputf8: bool = False):
        """MAIL with SIZE (and SMTPUTF8), one RCPT, a 2-chunk BDAT message; returns the replies."""
        c = self.greet(self.inbound_ports[name])
        mail = c.command(f"MAIL FROM:<a@sender.test> SIZE={size_param}" + (" SMTPUTF8" if smtputf8 else ""))
        rcpt = c.command("RCPT TO:<user@accepted.test>")
        if rcpt.code != 250:
            return mail, rcpt, None
        body = b"Subject: chunks " + name.encode() + b"\r\n\r\n" + b"x" * 100 + b"\r\n"
        c.send(b"BDAT %d\r\n" % 20 + body[:20])
        first = c.reply()
        c.send(b"BDAT %d LAST\r\n" % (len(body) - 20) + body[20:])
        return mail, rcpt, (first, c.reply())

    def test_capabilities_widened_inside_tls_are_the_ones_used(self):
        """Before TLS: SIZE 1000, no CHUNKING. Inside TLS: SIZE 100000000, CHUNKING."""
        fake = self.fakes["widens"]
        mail, rcpt, data = self.bdat_transaction("widens", 5000)
        self.assertEqual(rcpt.code, 250, f"the pre-TLS SIZE 1000 was used: {rcpt!r}\n{self.logs()}")
        self.assertEqual([r.code for r in data], [250, 250])
        conn = fake.connections[-1]
        self.assertEqual(conn.ehlo_count, 2, "no EHLO again inside TLS")
        self.assertEqual([line for line in conn.commands(tls=False) if not line.upper().startswith(("EHLO", "STARTTLS"))],
                         [], "something beyond EHLO and STARTTLS went in plain text")
        cmds = conn.commands(tls=True)
        self.assertTrue(cmds[0].upper().startswith("EHLO"), cmds)
        self.assertTrue(any(line.startswith("MAIL FROM:<a@sender.test> SIZE=") for line in cmds), cmds)
        self.assertTrue(any(line.upper().startswith("BDAT") for line in cmds), "CHUNKING inside TLS not used")
        RESULTS.append(("upstream: SIZE 1000/no CHUNKING before TLS, more inside", "post-TLS used: 250, BDAT relayed"))

    def test_capabilities_narrowed_inside_tls_are_the_ones_used(self):
        """Before TLS: CHUNKING, SMTPUTF8, SIZE 100000000. Inside TLS: SIZE 1000 only."""
        fake = self.fakes["narrows"]
        mail, rcpt, _ = self.bdat_transaction("narrows", 5000)
        RESULTS.append(("upstream: big SIZE before TLS, SIZE 1000 inside; SIZE=5000", rcpt.wire.strip()))
        self.assertEqual(rcpt.code, 552, f"the pre-TLS SIZE was trusted: {rcpt!r}\n{self.logs()}")
        mail, rcpt, _ = self.bdat_transaction("narrows", 100, smtputf8=True)
        RESULTS.append(("upstream: SMTPUTF8 before TLS only; MAIL ... SMTPUTF8", rcpt.wire.strip()))
        self.assertEqual(rcpt.code, 553, f"the pre-TLS SMTPUTF8 was trusted: {rcpt!r}")
        mail, rcpt, data = self.bdat_transaction("narrows", 100)
        self.assertEqual(rcpt.code, 250, rcpt)
        self.assertEqual([r.code for r in data], [250, 250])
        self.assertTrue(harness.wait_until(lambda: any(b"chunks narrows" in m["data"] for m in fake.messages()), 5))
        m = next(m for m in fake.messages() if b"chunks narrows" in m["data"])
        self.assertTrue(m["tls"])
        self.assertNotIn("bdat", m, "BDAT sent although CHUNKING was only advertised before TLS")
        for conn in fake.connections:
            self.assertFalse([x for x in conn.commands() if x.upper().startswith("BDAT")], "BDAT sent")
        RESULTS.append(("upstream: CHUNKING before TLS only; client BDAT", "converted to DATA inside TLS, 250"))


if __name__ == "__main__":
    harness.main()
