"""Real HAProxy in front of two dsproxy instances (docs/design.md §8, issue 8).

HAProxy (the Debian package, run in the foreground with `-db` from a config
in a temporary directory, no system service) balances TCP round-robin over
two `dsproxy run` instances with `send-proxy-v2`, health-checking them with
SMTP (`option smtpchk`: banner, HELO, 250) behind a PROXY header too
(`check-send-proxy`). Each instance trusts PROXY headers
from HAProxy's source address (127.0.0.1) only. Clients connect from
127.0.0.77 and send over STARTTLS (TLS passes through HAProxy end to end).
Checks: both instances served mail; each logs the client's own address and
port (`proxy=v2 ... client=127.0.0.77 port=N via 127.0.0.1`, `connect from
127.0.0.77`), and the Received header of every stored message names
127.0.0.77, never HAProxy; health checks are not logged as bad headers; a
client going around HAProxy straight to an instance gets no banner.
Loopback only.
"""
import email
import shutil
import smtplib
import socket
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

CLIENT = "127.0.0.77"  # a loopback address of its own, so HAProxy's (127.0.0.1) is not mistaken for it


@unittest.skipUnless(shutil.which("haproxy"), "haproxy is not installed (scripts/install-deps.sh test installs it)")
class HAProxyInFront(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-haproxy-")
        w = cls.work = cls._wd.__enter__()
        pki = cls.pki = harness.Pki(w / "pki")
        cls.cert = pki.leaf("mx", dns=[harness.Stack.FQDN])
        cls.stacks = []
        for i in range(2):
            st = harness.Stack(w / f"dsproxy{i}", pki, certs=[cls.cert], config={
                "listeners": {"edge": {"proxy_protocol": ["127.0.0.1/32"]}},
                "process": {"io_threads": 1},
            })
            cls.stacks.append(st)
            st.start()
        cls.port = harness.free_port()
        cfg = w / "haproxy.cfg"
        servers = "\n".join(
            f"    server dsproxy{i} 127.0.0.1:{st.port} source 127.0.0.1 send-proxy-v2 check check-send-proxy inter 500ms fall 10"
            for i, st in enumerate(cls.stacks))
        cfg.write_text(f"""global
    log stderr format raw local0
    maxconn 200

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    # A health check under a sanitizer build on a loaded machine may take
    # longer than the 500 ms interval; it must not mark an instance down.
    timeout check 5s

frontend smtp
    bind 127.0.0.1:{cls.port}
    default_backend dsproxy

backend dsproxy
    balance roundrobin
    option smtpchk HELO haproxy.example.net
{servers}
""")
        harness.run(["haproxy", "-c", "-f", cfg])
        cls.haproxy = harness.Process(["haproxy", "-db", "-f", cfg], w / "haproxy.log")
        harness.wait_for_port(cls.port, proc=cls.haproxy.proc)
        # Both servers up (health checks passed) before the first client.
        up = harness.wait_until(lambda: all("proxy=v2 edge" in st.proxy_log() for st in cls.stacks), 20, 0.1)
        assert up, "HAProxy's health checks did not reach both instances:\n" + cls.haproxy.log()[-3000:]

    @classmethod
    def tearDownClass(cls):
        cls.haproxy.stop()
        for st in cls.stacks:
            st.stop()
        cls._wd.__exit__(None, None, None)

    def logs(self) -> str:
        return "\n".join([f"--- haproxy ---\n{self.haproxy.log()[-3000:]}"] +
                         [st.logs()[-3000:] for st in self.stacks])

    def send(self, subject: str) -> int:
        """Sends one message through HAProxy from CLIENT; returns the client's port."""
        with smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.example.net", timeout=30,
                          source_address=(CLIENT, 0)) as smtp:
            port = smtp.sock.getsockname()[1]
            smtp.starttls(context=harness.client_context(ca_file=self.pki.ca_cert))
            smtp.sendmail("alice@sender.test", ["bob@example.com"], harness.message(subject=subject))
        return port

    def test_client_address_reaches_both_instances_logs_and_received_headers(self):
        ports = [self.send(f"through haproxy {i}") for i in range(4)]
        for st in self.stacks:
            self.assertTrue(harness.wait_until(lambda: len(st.messages()) >= 2, 10), self.logs())
        for st in self.stacks:
            log = st.proxy_log()
            self.assertEqual(len(st.messages()), 2, "round robin: two of four messages each\n" + self.logs())
            served = [p for p in ports if f"proxy=v2 edge client={CLIENT} port={p} via 127.0.0.1" in log]
            self.assertEqual(len(served), 2, self.logs())
            for p in served:
                self.assertIn(f"connect from {CLIENT} port {p} listener=edge", log)
            self.assertNotIn("bad PROXY header", log)  # HAProxy's health checks send a header too
            for text in st.message_texts():
                received = harness.dsproxy_received(text)
                self.assertIn(f"[{CLIENT}]", received, text[:1500])
                self.assertNotIn("[127.0.0.1]", received)
                self.assertIn("client.example.net", received)
        self.assertNotIn("is DOWN", self.haproxy.log())  # the SMTP health checks passed through the header
        client = CLIENT.replace(".", r"\.")
        self.assertRegex(self.haproxy.log(), client + r":\d+ \[[^]]+\] smtp dsproxy/dsproxy[01]")

    def test_going_around_haproxy_gets_no_banner(self):
        st = self.stacks[0]
        with socket.create_connection(("127.0.0.1", st.port), timeout=10, source_address=(CLIENT, 0)) as s:
            s.sendall(b"PROXY TCP4 198.51.100.1 127.0.0.1 1 25\r\n")
            try:
                self.assertEqual(s.recv(1024), b"")
            except ConnectionResetError:
                pass
        self.assertTrue(harness.wait_until(
            lambda: f"client={CLIENT} listener=edge reason=PROXY header expected but the peer is not in "
                    "proxy_protocol" in st.proxy_log(), 10), st.proxy_log())
        self.assertNotIn("198.51.100.1", st.proxy_log())


if __name__ == "__main__":
    harness.main()
