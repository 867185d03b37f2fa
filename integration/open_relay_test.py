"""open_relay_test — an inbound listener is never an open relay (docs/design.md §1, §10).

dsproxy runs one inbound listener for the accepted domain `accepted.test` in
front of a recording backend (harness.FakeSmtp) that accepts every recipient
it is given — the worst case, a backend that trusts its proxy and would relay
anything. Every address trick is sent as a RCPT over a real socket, its reply
is checked, and afterwards the backend's own record is checked: every
recipient that reached it is `<local@accepted.test>` (any letter case) with
no routing operator in the local part, and no message for another domain
arrived. A second listener (outbound) checks that only `allowed_clients` may
use it.

Decisions (also in docs/configuration.md, "Relay control"):
  - The domain is the one after the last unquoted "@"; a source route
    (`@a,@b:user@d`, RFC 5321 Appendix C) is parsed and dropped, never
    followed: `@accepted.test:user@other.test` is a RCPT for other.test
    (550 5.7.1), `@other.test:user@accepted.test` reaches the backend as
    `<user@accepted.test>`.
  - Sender-specified routing in the local part of an accepted domain —
    `user%other.test@`, `other.test!user@`, a quoted local part holding "@"
    or "%" — is refused with 550 5.7.1, as Postfix does for it with
    allow_untrusted_routing = no. Passing it on unchanged would leave the
    decision to the backend, which may honour the percent hack or a bang
    path (Postfix's allow_percent_hack, swap_bangpath; sendmail) and relay
    it; dsproxy must not widen what the backend's administrator allowed.
  - Address literals (`user@[192.0.2.1]`) are refused (550 5.7.1); a
    trailing dot or an empty label is a syntax error (501 5.1.3); case
    never matters (`USER@ACCEPTED.TEST` is accepted, `user@Other.Test` is
    refused); a subdomain is accepted only when listed (`.accepted.test`).
  - With SMTPUTF8, a domain that is the accepted one only after UTS #46
    mapping (`user@ａccepted.test`, `user@accepted。test`) is refused
    (501 5.1.3): it would reach the backend as written.

Usage: python3 open_relay_test.py PATH/TO/dsproxy [unittest arguments]
"""
import json
import re
import smtplib
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

# (RCPT argument, expected code, enhanced code or None, what it is)
REFUSED = [
    ("<user@other.test>", 550, "5.7.1", "a domain that is not accepted"),
    ("<user@Other.Test>", 550, "5.7.1", "case does not make a domain accepted"),
    ("<user@sub.accepted.test>", 550, "5.7.1", "a subdomain that is not listed"),
    ("<user@accepted.test.other.test>", 550, "5.7.1", "the accepted domain as a prefix"),
    ("<user@other-accepted.test>", 550, "5.7.1", "the accepted domain as a suffix of a label"),
    ("<user%other.test@accepted.test>", 550, "5.7.1", "percent hack"),
    ("<USER%OTHER.TEST@ACCEPTED.TEST>", 550, "5.7.1", "percent hack in upper case"),
    ("<user%other.test%accepted.test@accepted.test>", 550, "5.7.1", "percent hack, two hops"),
    ("<other.test!user@accepted.test>", 550, "5.7.1", "bang path"),
    ("<other.test!user%other.test@accepted.test>", 550, "5.7.1", "bang path and percent hack"),
    ("<@accepted.test:user@other.test>", 550, "5.7.1", "source route through the accepted domain"),
    ("<@accepted.test,@accepted.test:user@other.test>", 550, "5.7.1", "two-hop source route"),
    ('<"user@other.test"@accepted.test>', 550, "5.7.1", "quoted local part holding @"),
    ('<"user%other.test"@accepted.test>', 550, "5.7.1", "quoted local part holding %"),
    ('<"other.test!user"@accepted.test>', 550, "5.7.1", "quoted local part holding !"),
    ('<"user\\@other.test"@accepted.test>', 550, "5.7.1", "quoted local part with an escaped @"),
    ('<"user"@other.test>', 550, "5.7.1", "quoted local part, other domain"),
    ("<user@[127.0.0.1]>", 550, "5.7.1", "IPv4 address literal"),
    ("<user@[IPv6:::1]>", 550, "5.7.1", "IPv6 address literal"),
    ("<postmaster@other.test>", 550, "5.7.1", "postmaster of another domain"),
    ("<user@accepted.test.>", 501, "5.1.3", "trailing dot"),
    ("<user@other.test.>", 501, "5.1.3", "trailing dot, other domain"),
    ("<user@accepted..test>", 501, "5.1.3", "empty label"),
    ("<user@other.test@accepted.test>", 501, "5.1.3", "two unquoted @"),
    ("<user@accepted.test@other.test>", 501, "5.1.3", "two unquoted @, accepted first"),
    ("<user\\@other.test@accepted.test>", 501, "5.1.3", "backslash outside quotes"),
    ("<user@other.test%accepted.test>", 501, "5.1.3", "percent in the domain"),
    ("<user@other.test >", 501, "5.1.3", "space inside the brackets"),
    ("user@other.test", 501, "5.1.3", "no angle brackets"),
    ("<user@other.test> @accepted.test", 501, "5.5.4", "the accepted domain after the path"),
]
# (RCPT argument, what the backend must receive)
ACCEPTED = [
    ("<user@accepted.test>", "<user@accepted.test>"),
    ("<USER@ACCEPTED.TEST>", "<USER@ACCEPTED.TEST>"),
    ("<@other.test:route@accepted.test>", "<route@accepted.test>"),
    ("<@other.test,@third.test:route2@accepted.test>", "<route2@accepted.test>"),
    ('<"quoted user"@accepted.test>', '<"quoted user"@accepted.test>'),
    ("<Postmaster>", "<Postmaster>"),
]
RESULTS = []  # (case, reply) for the printed table


def backend_may_receive(rcpt: str) -> bool:
    """The backend may only see mailboxes of accepted.test (or its postmaster) without routing."""
    m = re.fullmatch(r"<(.*)>(?: .*)?", rcpt)
    if not m:
        return False
    addr = m.group(1)
    if addr.lower() == "postmaster":
        return True
    local, _, domain = addr.rpartition("@")
    if local.startswith('"') and local.endswith('"'):
        local = local[1:-1]
    return domain.lower() == "accepted.test" and not re.search(r"[%!@]", local) and not addr.startswith("@")


class OpenRelay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-relay-")
        w = cls.work = cls._wd.__enter__()
        cls.backend = harness.FakeSmtp(ehlo=["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 10485760"],
                                       starttls="hide", name="backend.test")
        cls.port, cls.outbound_port = harness.free_port(), harness.free_port()
        config = {
            "logging": {"level": "info"},
            "process": {"allow_root": True},  # the tests run as whoever runs them, root included
            "listeners": {
                "edge": {"role": "inbound", "listen": [f"127.0.0.1:{cls.port}"], "fqdn": "mx.accepted.test",
                         "tls": "none", "upstream": "backend"},
                "smarthost": {"role": "outbound", "listen": [f"127.0.0.1:{cls.outbound_port}"],
                              "fqdn": "mx.accepted.test", "tls": "none", "allowed_clients": ["192.0.2.0/24"]},
            },
            "upstreams": {"backend": {"hosts": [f"127.0.0.1:{cls.backend.port}"], "tls": {"level": "none"}}},
            "accepted_domains": ["accepted.test"],
            "trust": {"system": False},
            "policies": {"default": {"level": "opportunistic", "route": [f"127.0.0.1:{cls.backend.port}"]}},
            "limits": {"max_bad_commands": 1000},
            "timeouts": {"shutdown_drain": "2s"},
        }
        (w / "dsproxy.yaml").write_text(json.dumps(config, indent=2))
        cls.proxy = harness.Process([harness.DSPROXY, "run", "-c", w / "dsproxy.yaml"], w / "dsproxy.log")
        harness.wait_for_port(cls.port, proc=cls.proxy.proc)

    @classmethod
    def tearDownClass(cls):
        code = cls.proxy.stop()
        cls.backend.close()
        if RESULTS:
            print("\nRCPT TO:%-52s reply" % "")
            for case, reply in RESULTS:
                print(f"  {case:58s} {reply}")
        cls._wd.__exit__(None, None, None)
        if code != 0:
            raise AssertionError(f"dsproxy exited with {code}")

    def session(self, smtputf8=False) -> harness.SmtpClient:
        c = harness.SmtpClient(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        r = c.command("MAIL FROM:<alice@sender.test>" + (" SMTPUTF8" if smtputf8 else ""))
        self.assertEqual(r.code, 250, r)
        return c

    def assert_backend_clean(self):
        rcpts = [line[8:] for line in self.backend.lines() if line.upper().startswith("RCPT TO:")]
        bad = [r for r in rcpts if not backend_may_receive(r)]
        self.assertEqual(bad, [], f"the backend was asked to relay: {bad}\n{self.proxy.log()[-3000:]}")
        for m in self.backend.messages():
            for r in m["rcpts"]:
                self.assertTrue(backend_may_receive(r), m)

    def test_address_tricks_are_refused_and_never_reach_the_backend(self):
        c = self.session()
        before = self.backend.mark()
        for arg, code, enhanced, what in REFUSED:
            with self.subTest(rcpt=arg, what=what):
                r = c.command(f"RCPT TO:{arg}")
                RESULTS.append((arg, r.wire.strip()))
                self.assertEqual(r.code, code, f"{what}: {r!r}")
                if enhanced:
                    self.assertTrue(r.text.startswith(enhanced + " "), f"{what}: {r!r}")
        # Nothing was accepted: DATA has no recipient, and the backend never saw this transaction.
        self.assertEqual(c.command("DATA").code, 554)
        self.assertEqual(self.backend.since(before), [], "a refused RCPT opened a backend transaction")
        log = self.proxy.log()
        self.assertIn("reason=relay denied for domain other.test", log)
        self.assertIn("reason=sender-specified routing in user%other.test@accepted.test", log)
        self.assert_backend_clean()

    def test_accepted_forms_reach_the_backend_unwidened(self):
        c = self.session()
        for arg, _ in ACCEPTED:
            with self.subTest(rcpt=arg):
                r = c.command(f"RCPT TO:{arg}")
                RESULTS.append((arg, r.wire.strip()))
                self.assertEqual(r.code, 250, r)
        # Tricks in the same transaction change nothing for the recipients already accepted.
        self.assertEqual(c.command("RCPT TO:<user%other.test@accepted.test>").code, 550)
        self.assertEqual(c.command("DATA").code, 354)
        c.send("Subject: relay check\r\nTo: <user@other.test>\r\n\r\nbody\r\n.\r\n")
        self.assertEqual(c.reply().code, 250)
        self.assertTrue(harness.wait_until(lambda: any(
            b"relay check" in m["data"] for m in self.backend.messages()), 10))
        m = next(m for m in self.backend.messages() if b"relay check" in m["data"])
        self.assertEqual(m["rcpts"], [want for _, want in ACCEPTED])
        self.assert_backend_clean()

    def test_unicode_lookalikes_with_smtputf8(self):
        c = self.session(smtputf8=True)
        cases = [
            ("<user@other.tést>", 550, "a Unicode domain that is not accepted"),
            ("<user@accеpted.test>", 550, "Cyrillic е in the accepted name"),
            ("<usér%other.test@accepted.test>", 550, "percent hack in a UTF-8 local part"),
            # accepted.test only after UTS #46 mapping; passed on as written, the backend might
            # read another domain: refused as a bad domain.
            ("<user@ａccepted.test>", 501, "full-width a"),
            ("<user@accepted。test>", 501, "ideographic full stop"),
            ("<user@ACCEPTED．TEST>", 501, "full-width full stop"),
        ]
        for arg, code, what in cases:
            with self.subTest(rcpt=arg, what=what):
                r = c.command(f"RCPT TO:{arg}")
                RESULTS.append((arg + " SMTPUTF8", r.wire.strip()))
                self.assertEqual(r.code, code, f"{what}: {r!r}")
        # Invalid UTF-8 is a syntax error, not a domain to look up.
        c.send(b"RCPT TO:<user@accepted\xff.test>\r\n")
        r = c.reply()
        RESULTS.append(("<user@accepted\\xff.test> SMTPUTF8", r.wire.strip()))
        self.assertEqual(r.code, 501, r)
        self.assert_backend_clean()

    def test_non_ascii_address_without_smtputf8(self):
        c = self.session()
        r = c.command("RCPT TO:<usér@accepted.test>")
        RESULTS.append(("<usér@accepted.test> (no SMTPUTF8)", r.wire.strip()))
        self.assertEqual(r.code, 553, r)
        self.assertTrue(r.text.startswith("5.6.7 "), r)

    def test_pipelined_tricks_with_smtplib(self):
        """The same checks through a real client library, pipelined (RFC 2920)."""
        with smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.test", timeout=10) as s:
            refused = s.sendmail("alice@sender.test", ["ok@accepted.test", "x%other.test@accepted.test",
                                                       "other.test!x@accepted.test", "x@other.test"],
                                 b"Subject: smtplib relay\r\n\r\nhi\r\n")
        self.assertEqual(sorted(refused), sorted(["x%other.test@accepted.test", "other.test!x@accepted.test",
                                                  "x@other.test"]))
        self.assertTrue(all(code == 550 for code, _ in refused.values()), refused)
        self.assertTrue(harness.wait_until(lambda: any(
            b"smtplib relay" in m["data"] for m in self.backend.messages()), 10))
        m = next(m for m in self.backend.messages() if b"smtplib relay" in m["data"])
        self.assertEqual(m["rcpts"], ["<ok@accepted.test>"])
        self.assert_backend_clean()

    def test_outbound_listener_serves_allowed_clients_only(self):
        before = len(self.backend.connections)
        c = harness.SmtpClient(self.outbound_port)
        self.addCleanup(c.close)
        r = c.reply()
        RESULTS.append(("(outbound listener, client not in allowed_clients)", r.wire.strip()))
        self.assertEqual(r.code, 554, r)
        self.assertTrue(r.text.startswith("5.7.1 "), r)
        self.assertTrue(c.closed_within(5))
        time.sleep(0.2)
        self.assertEqual(len(self.backend.connections), before, "the refused client reached a next hop")


if __name__ == "__main__":
    harness.main()
