"""Metrics listener (SPEC §8, issue 8): Prometheus text on HTTP, scraped with curl.

dsproxy with `metrics.listen` relays to a `dsproxy sink` that offers STARTTLS
with a self-signed certificate: once over an `opportunistic` upstream and once
over a `validate` upstream in `mode: testing` (the chain fails, the message is
still relayed). Python's smtplib is the client (STARTTLS on the client leg).
Checks that the counters moved as expected: connections, refusals, TLS
handshakes on both legs, verification failures by reason, messages and bytes,
replies by class, upstream latency histograms; and that the listener answers
only GET /metrics. Only loopback addresses are used.
"""
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DSPROXY = None


def scrape(url: str) -> str:
    curl = shutil.which("curl")
    if curl:
        return subprocess.run([curl, "--silent", "--show-error", "--fail", "--max-time", "10", url], check=True,
                              capture_output=True, text=True, timeout=20).stdout
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def sample(text: str, name: str, labels: str = "") -> float:
    key = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    return 0.0


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-metrics-")
        w = cls.work = cls._wd.__enter__()
        pki = harness.Pki(w / "pki")
        sink_cert, sink_key = pki.leaf("sink", dns=["sink.test"], self_signed=True)
        mx_cert, mx_key = pki.leaf("mx", dns=["mx.example.org"])
        certs = w / "certs"
        certs.mkdir()
        shutil.copy(mx_cert, certs / "mx.pem")
        shutil.copy(mx_key, certs / "mx.key")
        (certs / "mx.key").chmod(0o600)
        cls.ca = pki.ca_cert
        cls.sink_port = harness.free_port()
        cls.maildir = w / "maildir"
        cls.sink = harness.Process([DSPROXY, "sink", "--listen", f"127.0.0.1:{cls.sink_port}", "--maildir",
                                    cls.maildir, "--no-fsync", "--fqdn", "sink.test", "--cert", sink_cert, "--key",
                                    sink_key], w / "sink.log")
        harness.wait_for_port(cls.sink_port, proc=cls.sink.proc)
        cls.port, cls.strict_port, cls.metrics_port = harness.free_port(), harness.free_port(), harness.free_port()
        cls.balanced_port = harness.free_port()
        (w / "dsproxy.yaml").write_text(f"""
metrics:
  listen: "127.0.0.1:{cls.metrics_port}"
process: {{allow_root: true}}  # the tests run as whoever runs them, root included
listeners:
  inbound:
    role: inbound
    listen: ["127.0.0.1:{cls.port}"]
    fqdn: mx.example.org
    upstream: sink
  strict:
    role: inbound
    listen: ["127.0.0.1:{cls.strict_port}"]
    fqdn: mx.example.org
    upstream: strict
  balanced:
    role: inbound
    listen: ["127.0.0.1:{cls.balanced_port}"]
    fqdn: mx.example.org
    upstream: sink
    proxy_protocol: ["192.0.2.0/24"]
upstreams:
  sink:
    hosts: ["127.0.0.1:{cls.sink_port}"]
    tls: {{level: opportunistic}}
  strict:
    hosts: ["127.0.0.1:{cls.sink_port}"]
    tls: {{level: validate, mode: testing}}
accepted_domains: [example.org]
certificates:
  directories: [certs]
trust:
  ca_file: {cls.ca}
""")
        cls.proxy = harness.Process([DSPROXY, "run", "-c", w / "dsproxy.yaml"], w / "dsproxy.log")
        harness.wait_for_port(cls.port, proc=cls.proxy.proc)
        harness.wait_for_port(cls.metrics_port, proc=cls.proxy.proc)
        cls.url = f"http://127.0.0.1:{cls.metrics_port}/metrics"

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.sink.stop()
        cls._wd.__exit__(None, None, None)

    def send(self, port: int, body: str) -> None:
        context = ssl.create_default_context(cafile=str(self.ca))
        context.check_hostname = False  # smtplib names the server by the address it connected to
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example.net", timeout=10) as smtp:
            smtp.starttls(context=context)
            smtp.sendmail("a@example.net", ["b@example.org"], body)

    def wait_for(self, predicate, what: str) -> str:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            text = scrape(self.url)
            if predicate(text):
                return text
            time.sleep(0.1)
        self.fail(f"{what}; last scrape:\n{text}")

    def test_counters_move(self):
        before = scrape(self.url)
        self.assertIn("# TYPE dsproxy_upstream_transaction_seconds histogram", before)
        body = "Subject: metrics\r\n\r\n" + ("x" * 98 + "\r\n") * 10
        self.send(self.port, body)
        self.send(self.strict_port, body)
        after = self.wait_for(lambda t: sample(t, "dsproxy_messages_relayed_total")
                              >= sample(before, "dsproxy_messages_relayed_total") + 2
                              and sample(t, "dsproxy_connections_current") == 0, "two messages relayed")

        def moved(name, labels=""):
            return sample(after, name, labels) - sample(before, name, labels)

        self.assertEqual(moved("dsproxy_connections_total", 'listener="inbound"'), 1)
        self.assertEqual(moved("dsproxy_connections_total", 'listener="strict"'), 1)
        # the Received header and the CRLF.CRLF framing are not counted, the content is
        self.assertGreaterEqual(moved("dsproxy_message_bytes_relayed_total"), 2 * 1000)
        self.assertEqual(moved("dsproxy_tls_handshakes_total", 'leg="in",result="ok"'), 2)
        self.assertEqual(moved("dsproxy_tls_handshakes_total", 'leg="out",result="ok"'), 2)
        self.assertEqual(moved("dsproxy_tls_handshakes_total", 'leg="in",result="ok",version="TLSv1.3"'), 2)
        self.assertEqual(moved("dsproxy_tls_verification_failures_total", 'leg="out",reason="untrusted"'), 1)
        # 220 banner, 250 EHLO x2, 220 STARTTLS, 250 MAIL, 250 RCPT, 250 end of data, 221 QUIT per session
        self.assertGreaterEqual(moved("dsproxy_replies_total", 'class="2xx"'), 2 * 8)
        self.assertEqual(moved("dsproxy_replies_total", 'class="3xx"'), 2)
        self.assertEqual(moved("dsproxy_upstream_transaction_seconds_count"), 2)
        self.assertEqual(moved("dsproxy_upstream_connect_seconds_count"), 2)
        self.assertEqual(moved("dsproxy_upstream_transaction_seconds_bucket", 'le="+Inf"'), 2)

    def test_refusals_are_counted(self):
        reason = 'reason="proxy_source_not_trusted"'
        before = scrape(self.url)
        with socket.create_connection(("127.0.0.1", self.balanced_port), timeout=10) as s:
            s.sendall(b"PROXY TCP4 198.51.100.1 127.0.0.1 1 25\r\n")
            try:
                self.assertEqual(s.recv(1024), b"")
            except ConnectionResetError:
                pass  # closed without a banner either way
        after = self.wait_for(lambda t: sample(t, "dsproxy_connections_refused_total", reason)
                              > sample(before, "dsproxy_connections_refused_total", reason), "a refusal counted")
        self.assertEqual(sample(after, "dsproxy_connections_refused_total", reason)
                         - sample(before, "dsproxy_connections_refused_total", reason), 1)

    def test_only_get_metrics(self):
        base = f"http://127.0.0.1:{self.metrics_port}"
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base + "/", timeout=10)
        self.assertEqual(e.exception.code, 404)
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(urllib.request.Request(self.url, data=b"x", method="POST"), timeout=10)
        self.assertEqual(e.exception.code, 405)
        with urllib.request.urlopen(self.url, timeout=10) as r:
            self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            self.assertRegex(r.read().decode(), re.compile(r"^dsproxy_connections_current \d+$", re.M))


if __name__ == "__main__":
    DSPROXY = sys.argv.pop(1)
    unittest.main()
