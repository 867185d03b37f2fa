"""inbound_upstream_tls_test — the inbound role's upstream leg (docs/design.md §1, §3, §6.1): dsproxy
originates STARTTLS to the backend per the upstream's `tls` policy and checks the backend's
certificate per its level before any MAIL crosses.

The backend is a real `dsproxy sink` offering STARTTLS with a certificate from a test CA made
here (or none, or a self-signed one). For each level the test shows the pass and the fail:
`opportunistic` relays over TLS; `encrypt` refuses a backend that does not offer STARTTLS
(stripping) and never falls back to plain text; `validate` refuses a chain that is not from
the trust store; `domain` accepts a name one node below `tls_domain` and refuses one two
nodes deep; `mode: testing` logs what it would have refused and relays. A refusal gives the
client a 4xx at RCPT and the sink stores nothing. Also: SIGINT stops at once with exit 0.

Usage: python3 inbound_upstream_tls_test.py PATH/TO/dsproxy [unittest arguments]
"""
import signal
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import relay_test  # noqa: E402
from relay_test import StackTest  # noqa: E402

SINK = {}


def setUpModule():
    relay_test.setUpModule()
    pki = relay_test.PKI
    SINK["one-node-deep"] = pki.leaf("mail.backend.test", dns=["mail.backend.test"], usage="serverAuth")
    SINK["two-nodes-deep"] = pki.leaf("mail.us.backend.test", dns=["mail.us.backend.test"], usage="serverAuth")
    SINK["self-signed"] = pki.leaf("selfsigned.backend.test", dns=["backend.test"], usage="serverAuth",
                                   self_signed=True)


def tearDownModule():
    relay_test.tearDownModule()


class UpstreamTls(StackTest):
    def backend(self, level, sink_cert=None, **policy):
        """A stack whose backend policy is `level`; the sink offers STARTTLS with `sink_cert`
        (a key of SINK) or does not offer it (None)."""
        tls = {"level": level, **policy}
        sink_args = []
        if sink_cert:
            cert, key = SINK[sink_cert]
            sink_args = ["--cert", str(cert), "--key", str(key)]
        return self.stack(config={"upstreams": {"backend": {"tls": tls}}}, sink_args=sink_args)

    def delivered(self, st):
        c = self.greet(st)
        r = self.send_message(c, st)
        self.assert_reply(r, 250, st=st)
        self.assertEqual(len(st.messages()), 1, st.logs())
        return st.proxy_log()

    def refused(self, st, reason):
        """RCPT gets a 4xx, no MAIL reaches the sink, and the log names `reason`."""
        c = self.greet(st)
        self.assert_reply(c.command("MAIL FROM:<sender@sender.test>"), 250, st=st)
        r = c.command("RCPT TO:<user@example.com>")
        self.assertEqual(r.code // 100, 4, f"{r!r}\n{st.logs()}")
        self.assertNotEqual(c.command("DATA").code, 354, st.logs())  # nothing to send data to
        c.command("QUIT")
        self.assertEqual(st.messages(), [], st.logs())
        self.assertRegex(st.proxy_log(), reason)
        return st.proxy_log()

    def test_opportunistic_relays_over_tls(self):
        log = self.delivered(self.backend("opportunistic", "one-node-deep"))
        self.assertRegex(log, r"tls=out upstream=backend host=127\.0\.0\.1 level=opportunistic protocol=TLSv1\.[23]")

    def test_opportunistic_without_starttls_relays_in_plain_text(self):
        log = self.delivered(self.backend("opportunistic", None))
        self.assertNotIn("tls=out", log)

    def test_encrypt_refuses_a_backend_without_starttls(self):
        self.refused(self.backend("encrypt", None), r"(?i)starttls")

    def test_encrypt_accepts_a_self_signed_backend(self):
        self.delivered(self.backend("encrypt", "self-signed"))

    def test_validate_refuses_an_untrusted_chain(self):
        log = self.refused(self.backend("validate", "self-signed"), r"tls=out .*verdict=failed")
        self.assertIn("certificate check failed", log)

    def test_validate_accepts_a_chain_from_the_trust_store(self):
        log = self.delivered(self.backend("validate", "two-nodes-deep"))
        self.assertRegex(log, r"tls=out .*level=validate .*verdict=passed")

    def test_domain_accepts_a_name_one_node_deep(self):
        log = self.delivered(self.backend("domain", "one-node-deep", tls_domain="backend.test"))
        self.assertRegex(log, r"verdict=passed .*matched=mail\.backend\.test rule=one-node-deep")

    def test_domain_refuses_a_name_two_nodes_deep(self):
        log = self.refused(self.backend("domain", "two-nodes-deep", tls_domain="backend.test"),
                           r"tls=out .*level=domain .*verdict=failed")
        self.assertIn("mail.us.backend.test", log)  # the names presented are named

    def test_testing_mode_logs_and_relays(self):
        log = self.delivered(self.backend("domain", "two-nodes-deep", tls_domain="backend.test", mode="testing"))
        self.assertRegex(log, r"mode=testing reason=would refuse")


class Interrupt(StackTest):
    def test_sigint_stops_at_once_with_an_open_session(self):
        st = self.stack(config={"timeouts": {"shutdown_drain": "60s"}})
        c = self.greet(st)
        start = time.monotonic()
        st.proxy.send_signal(signal.SIGINT)
        self.assertEqual(st.proxy.proc.wait(timeout=30), 0, st.logs())
        self.assertLess(time.monotonic() - start, 20, "SIGINT waited for the 60 s drain timeout")
        self.assertTrue(c.closed_within(5))


if __name__ == "__main__":
    harness.main()
