"""Metrics listener (docs/design.md §8, issue 8): Prometheus text on HTTP, scraped with curl.

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
import signal
import smtplib
import socket
import subprocess
import ssl
import sys
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DSPROXY = None


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-metrics-")
        w = cls.work = cls._wd.__enter__()
        pki = harness.Pki(w / "pki")
        sink_cert, sink_key = pki.leaf("sink", dns=["sink.test"], self_signed=True)
        mx_cert, mx_key = pki.leaf("mx", dns=["mx.example.org"])
        cls.client_cert = pki.leaf("client", dns=["mta.client.test"])  # names no sender domain of the test
        certs = w / "certs"
        certs.mkdir()
        shutil.copy(mx_cert, certs / "mx.pem")
        cls.mx_cert = certs / "mx.pem"
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
        cls.balanced_port, cls.nocert_port = harness.free_port(), harness.free_port()
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
  nocert:                     # no certificate for its fqdn: runs without STARTTLS, by choice
    role: inbound
    listen: ["127.0.0.1:{cls.nocert_port}"]
    fqdn: nocert.example.net
    without_certificate: plain
    upstream: sink
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
policies:                     # sender domains (docs/design.md §6.2)
  example.net: {{level: validate, mode: testing}}
  .example.com: {{level: encrypt}}
  strict.example: {{level: encrypt}}
  wrongname.example: {{level: domain, mode: testing}}
certificates:
  directories: [certs]
trust:
  ca_file: {cls.ca}
""")
        cls.proxy = harness.Process([DSPROXY, "run", "-c", w / "dsproxy.yaml"], w / "dsproxy.log")
        harness.wait_for_port(cls.port, proc=cls.proxy.proc)
        harness.wait_for_port(cls.metrics_port, proc=cls.proxy.proc)
        cls.url = f"http://127.0.0.1:{cls.metrics_port}/metrics"
        # wait_for_port's probe is a connection too: counted (and gone) before any test's "before".
        settled = harness.wait_until(lambda: (lambda t: harness.metric_sample(
            t, "dsproxy_connections_total", 'listener="inbound"') >= 1 and harness.metric_sample(
            t, "dsproxy_connections_current") == 0)(harness.scrape(cls.url)), 10, 0.1)
        assert settled, "the start-up probe connection was never counted and closed"

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.sink.stop()
        cls._wd.__exit__(None, None, None)

    def send(self, port: int, body: str, sender: str = "a@example.net", tls: bool = True,
             client_cert: bool = False) -> None:
        context = ssl.create_default_context(cafile=str(self.ca))
        context.check_hostname = False  # smtplib names the server by the address it connected to
        if client_cert:
            context.load_cert_chain(*map(str, self.client_cert))
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example.net", timeout=10) as smtp:
            if tls:
                smtp.starttls(context=context)
            smtp.sendmail(sender, ["b@example.org"], body)

    def wait_for(self, predicate, what: str) -> str:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            text = harness.scrape(self.url)
            if predicate(text):
                return text
            time.sleep(0.1)
        self.fail(f"{what}; last scrape:\n{text}")

    def test_counters_move(self):
        before = harness.scrape(self.url)
        self.assertIn("# TYPE dsproxy_upstream_transaction_seconds histogram", before)
        body = "Subject: metrics\r\n\r\n" + ("x" * 98 + "\r\n") * 10
        self.send(self.port, body)
        self.send(self.strict_port, body)
        after = self.wait_for(lambda t: harness.metric_sample(t, "dsproxy_messages_relayed_total")
                              >= harness.metric_sample(before, "dsproxy_messages_relayed_total") + 2
                              and harness.metric_sample(t, "dsproxy_connections_current") == 0, "two messages relayed")

        def moved(name, labels=""):
            return harness.metric_sample(after, name, labels) - harness.metric_sample(before, name, labels)

        self.assertEqual(moved("dsproxy_connections_total", 'listener="inbound"'), 1)
        self.assertEqual(moved("dsproxy_connections_total", 'listener="strict"'), 1)
        # the Received header and the CRLF.CRLF framing are not counted, the content is
        self.assertGreaterEqual(moved("dsproxy_message_bytes_relayed_total"), 2 * 1000)
        self.assertEqual(moved("dsproxy_tls_handshakes_total", 'leg="in",result="ok"'), 2)
        self.assertEqual(moved("dsproxy_tls_handshakes_total", 'leg="out",result="ok"'), 2)
        self.assertEqual(moved("dsproxy_tls_handshakes_total", 'leg="in",result="ok",version="TLSv1.3"'), 2)
        self.assertEqual(moved("dsproxy_tls_verification_failures_total",
                               'leg="out",level="validate",reason="untrusted"'), 1)
        # 220 banner, 250 EHLO x2, 220 STARTTLS, 250 MAIL, 250 RCPT, 250 end of data, 221 QUIT per session
        self.assertGreaterEqual(moved("dsproxy_replies_total", 'class="2xx"'), 2 * 8)
        self.assertEqual(moved("dsproxy_replies_total", 'class="3xx"'), 2)
        self.assertEqual(moved("dsproxy_upstream_transaction_seconds_count"), 2)
        self.assertEqual(moved("dsproxy_upstream_connect_seconds_count"), 2)
        self.assertEqual(moved("dsproxy_upstream_transaction_seconds_bucket", 'le="+Inf"'), 2)

    def test_policy_outcomes_are_counted(self):
        # Per sender domain (docs/design.md §6.2), labelled by the configured entry;
        # domains without one count as "other" (bounded cardinality).
        before = harness.scrape(self.url)
        body = "Subject: policy\r\n\r\nhello\r\n"
        self.send(self.port, body, sender="a@example.net")         # validate, testing: no client certificate
        self.send(self.port, body, sender="a@mail.example.com")    # .example.com: encrypt, passed
        self.send(self.port, body, sender="a@unlisted.test")       # the default policy
        with self.assertRaises(smtplib.SMTPSenderRefused) as refused:
            self.send(self.port, body, sender="a@strict.example", tls=False)
        self.assertEqual(refused.exception.smtp_code, 530)
        key = 'dsproxy_policy_outcomes_total'
        labels = {
            "would_refuse": 'direction="inbound",domain="example.net",level="validate",outcome="would_refuse"',
            "parent": 'direction="inbound",domain=".example.com",level="encrypt",outcome="passed"',
            "other": 'direction="inbound",domain="other",level="opportunistic",outcome="passed"',
            "refused": 'direction="inbound",domain="strict.example",level="encrypt",outcome="refused"',
        }
        after = self.wait_for(lambda t: harness.metric_sample(t, key, labels["refused"]) > harness.metric_sample(before, key, labels["refused"])
                              and harness.metric_sample(t, "dsproxy_connections_current") == 0, "the refusal counted")
        for what, l in labels.items():
            self.assertEqual(harness.metric_sample(after, key, l) - harness.metric_sample(before, key, l), 1, what)
        # A client certificate that chains but names another domain: the
        # sender policy's check fails (counted by level and reason).
        self.send(self.port, body, sender="a@wrongname.example", client_cert=True)
        mismatch = 'leg="in",level="domain",reason="domain_name_mismatch"'
        wrong = 'direction="inbound",domain="wrongname.example",level="domain",outcome="would_refuse"'
        after = self.wait_for(lambda t: harness.metric_sample(t, key, wrong) > harness.metric_sample(before, key, wrong), "the mismatch counted")
        self.assertEqual(harness.metric_sample(after, "dsproxy_tls_verification_failures_total", mismatch)
                         - harness.metric_sample(before, "dsproxy_tls_verification_failures_total", mismatch), 1)
        self.assertNotIn("unlisted.test", after)
        self.assertNotIn("mail.example.com", after)

    def test_refusals_are_counted(self):
        reason = 'reason="proxy_source_not_trusted"'
        before = harness.scrape(self.url)
        with socket.create_connection(("127.0.0.1", self.balanced_port), timeout=10) as s:
            s.sendall(b"PROXY TCP4 198.51.100.1 127.0.0.1 1 25\r\n")
            try:
                self.assertEqual(s.recv(1024), b"")
            except ConnectionResetError:
                pass  # closed without a banner either way
        after = self.wait_for(lambda t: harness.metric_sample(t, "dsproxy_connections_refused_total", reason)
                              > harness.metric_sample(before, "dsproxy_connections_refused_total", reason), "a refusal counted")
        self.assertEqual(harness.metric_sample(after, "dsproxy_connections_refused_total", reason)
                         - harness.metric_sample(before, "dsproxy_connections_refused_total", reason), 1)

    def test_certificate_expiry_gauge(self):
        out = subprocess.run(["openssl", "x509", "-in", str(self.mx_cert), "-noout", "-enddate", "-fingerprint", "-sha1"],
                             check=True, capture_output=True, text=True).stdout
        not_after = ssl.cert_time_to_seconds(re.search(r"notAfter=(.*)", out).group(1).strip())
        thumbprint = re.search(r"Fingerprint=([0-9A-F:]+)", out).group(1).replace(":", "")
        text = harness.scrape(self.url)
        self.assertIn("# TYPE dsproxy_certificate_expiry_timestamp_seconds gauge", text)
        labels = f'name="mx.example.org",thumbprint="{thumbprint}",use="server"'
        self.assertEqual(harness.metric_sample(text, "dsproxy_certificate_expiry_timestamp_seconds", labels), not_after,
                         text[-1500:])

    def test_listener_starttls_gauge(self):
        """Issue 19 item 7: a listener left without a certificate shows as 0."""
        text = harness.scrape(self.url)
        self.assertIn("# TYPE dsproxy_listener_starttls gauge", text)
        for name, want in (("inbound", 1), ("strict", 1), ("balanced", 1)):
            self.assertEqual(harness.metric_sample(text, "dsproxy_listener_starttls", f'listener="{name}"'), want, name)
        self.assertIn('dsproxy_listener_starttls{listener="nocert"} 0\n', text)

    def test_process_build_and_reload_samples(self):
        text = harness.scrape(self.url)
        pid = self.proxy.proc.pid
        self.assertGreater(harness.metric_sample(text, "process_resident_memory_bytes"), 1 << 20)
        open_fds = harness.metric_sample(text, "process_open_fds")
        self.assertGreaterEqual(open_fds, 5)  # listeners, the metrics socket, this scrape
        self.assertLessEqual(abs(open_fds - len(list(Path(f"/proc/{pid}/fd").iterdir()))), 3)
        started = harness.metric_sample(text, "process_start_time_seconds")
        self.assertLess(abs(started - Path(f"/proc/{pid}").stat().st_mtime), 60)
        self.assertIn('dsproxy_build_info{version="', text)
        self.assertEqual(harness.metric_sample(text, "dsproxy_config_last_reload_successful"), 1)
        first = harness.metric_sample(text, "dsproxy_config_last_reload_success_timestamp_seconds")
        # A refused reload: 0, and the time of the last success stays.
        config = self.work / "dsproxy.yaml"
        good = config.read_text()
        mark = self.proxy.log_mark()
        config.write_text(good + "\nlimits: {max_connectionz: 1}\n")
        try:
            self.proxy.send_signal(signal.SIGHUP)
            harness.wait_for_log(self.proxy, r"reload refused: 1 error", since=mark)
            text = harness.scrape(self.url)
            self.assertEqual(harness.metric_sample(text, "dsproxy_config_last_reload_successful"), 0)
            self.assertEqual(harness.metric_sample(text, "dsproxy_config_last_reload_success_timestamp_seconds"), first)
        finally:
            config.write_text(good)
        mark = self.proxy.log_mark()
        time.sleep(1.1)  # the success timestamp has a resolution of one second
        self.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(self.proxy, r"reloaded ", since=mark)
        text = harness.scrape(self.url)
        self.assertEqual(harness.metric_sample(text, "dsproxy_config_last_reload_successful"), 1)
        self.assertGreater(harness.metric_sample(text, "dsproxy_config_last_reload_success_timestamp_seconds"), first)

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
