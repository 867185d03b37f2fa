"""Outbound DNS settings follow a reload (issue 15 item 2, docs/design.md §6.4, §7).

Two dnsmasq servers on loopback: the first knows nothing under .test
(NXDOMAIN for everything), the second knows moved.test, whose MX is a
`dsproxy sink` on 127.0.0.2. dsproxy starts with the first as its only DNS
server: moved.test is refused with 550 5.1.2 (the first server's
authoritative NXDOMAIN). After the configuration names the second server and
SIGHUP, a new session's RCPT to moved.test is accepted and the message
reaches the sink, while a session opened before the reload still asks the old
server (sessions in flight keep their resolver). A reload whose trust anchor
does not exist is refused and the running configuration stays.
Only loopback addresses are used.
"""
import signal
import smtplib
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DSPROXY = None


class DnsReload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-dnsreload-")
        w = cls.work = cls._wd.__enter__()
        cls.mx_port = harness.free_port()
        cls.maildir = w / "maildir"
        cls.sink = harness.Process([DSPROXY, "sink", "--listen", f"127.0.0.2:{cls.mx_port}", "--maildir",
                                    cls.maildir, "--no-fsync"], w / "sink.log")
        harness.wait_for_port(cls.mx_port, "127.0.0.2", proc=cls.sink.proc)
        (w / "old").mkdir()
        (w / "new").mkdir()
        cls.old_dns, cls.old_port = harness.start_dnsmasq(w / "old", ["--host-record=other.test,127.0.0.9"])
        cls.new_dns, cls.new_port = harness.start_dnsmasq(
            w / "new", ["--mx-host=moved.test,mx.moved.test,10", "--host-record=mx.moved.test,127.0.0.2"])
        cls.port = harness.free_port()
        cls.config = w / "dsproxy.yaml"
        cls.write_config(cls.old_port)
        cls.proxy = harness.Process([DSPROXY, "run", "-c", cls.config], w / "dsproxy.log")
        harness.wait_for_port(cls.port, proc=cls.proxy.proc)

    @classmethod
    def write_config(cls, dns_port, trust_anchors="[]"):
        cls.config.write_text(f"""
process: {{allow_root: true}}
listeners:
  smarthost:
    role: outbound
    listen: ["127.0.0.1:{cls.port}"]
    fqdn: relay.example.org
    tls: none
    allowed_clients: ["127.0.0.0/8"]
outbound:
  dns_servers: ["127.0.0.1:{dns_port}"]
  trust_anchors: {trust_anchors}  # dnsmasq does not sign: no DNSSEC validation
  dns_timeout: 3s
  dns_tries: 1
  mx_port: {cls.mx_port}
  address_order: ipv4-only
""")

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.sink.stop()
        for d in (cls.old_dns, cls.new_dns):
            d.kill()
            d.wait(5)
        cls._wd.__exit__(None, None, None)

    def reload(self, expect):
        mark = self.proxy.log_mark()
        self.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(self.proxy, expect, since=mark)

    def test_new_dns_servers_apply_to_new_sessions_only(self):
        self.write_config(self.old_port)
        self.reload(r"reloaded ")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as before:
            before.ehlo("mta.example.org")
            self.assertEqual(before.mail("sender@example.org")[0], 250)
            code, text = before.rcpt("user@moved.test")
            self.assertEqual(code, 550, text)  # the old server's NXDOMAIN: permanent, and correct for it
            self.assertIn(b"5.1.2", text)

            self.write_config(self.new_port)
            self.reload(r"reloaded ")

            before.rset()
            self.assertEqual(before.mail("sender@example.org")[0], 250)
            code, text = before.rcpt("user@moved.test")
            self.assertEqual(code, 550, f"a session in flight keeps its resolver: {text}")

        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as after:
            after.ehlo("mta.example.org")
            self.assertEqual(after.mail("sender@example.org")[0], 250)
            code, text = after.rcpt("user@moved.test")
            self.assertEqual(code, 250, text)
            code, text = after.data(harness.message("moved", sender="sender@example.org").encode())
            self.assertEqual(code, 250, text)
        harness.wait_until(lambda: len(harness.maildir_messages(self.maildir)) == 1)
        self.assertIn("outbound DNS servers: 127.0.0.1:", self.proxy.log())

    def test_reload_with_a_missing_trust_anchor_is_refused(self):
        self.write_config(self.new_port)
        self.reload(r"reloaded ")
        missing = self.work / "no-such.key"
        self.write_config(self.old_port, trust_anchors=f"[{missing}]")
        self.reload(r"reload refused: .*trust_anchors.*does not exist")
        # The running configuration (the new server) still routes.
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            s.ehlo("mta.example.org")
            self.assertEqual(s.mail("sender@example.org")[0], 250)
            self.assertEqual(s.rcpt("user@moved.test")[0], 250)


if __name__ == "__main__":
    DSPROXY = sys.argv.pop(1)
    unittest.main(verbosity=2)
