"""PROXY protocol on a listener (docs/design.md §8, issue 8): dsproxy behind a load balancer.

A listener with `proxy_protocol: [127.0.0.0/8]` relays to a `dsproxy sink`.
Python plays the balancer: it sends a PROXY v1 or v2 header naming a client
address from the documentation ranges, then SMTP (smtplib). Checks: the
address from the header reaches dsproxy's log and the Received header of the
message the sink stored; a malformed header, a silent peer (deadline) and a
peer outside the trusted sources are closed without a banner and logged.
Only loopback addresses are connected to; the proxied addresses are payload.
"""
import email
import ipaddress
import smtplib
import socket
import struct
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DSPROXY = None
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v1_header(src: str, src_port: int, dst: str, dst_port: int) -> bytes:
    family = "TCP6" if ":" in src else "TCP4"
    return f"PROXY {family} {src} {dst} {src_port} {dst_port}\r\n".encode()


def v2_header(src: str, src_port: int, dst: str, dst_port: int) -> bytes:
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    family = 0x21 if s.version == 6 else 0x11
    body = s.packed + d.packed + struct.pack("!HH", src_port, dst_port)
    body += bytes([0x04]) + struct.pack("!H", 3) + b"abc"  # an unknown TLV (NOOP type) is skipped
    return V2_SIGNATURE + bytes([0x21, family]) + struct.pack("!H", len(body)) + body


class ProxiedSMTP(smtplib.SMTP):
    """smtplib with a PROXY header written before the server speaks."""

    def __init__(self, header: bytes, *args, **kw):
        self._header = header
        super().__init__(*args, **kw)

    def _get_socket(self, host, port, timeout):
        s = socket.create_connection((host, port), timeout)
        s.sendall(self._header)
        return s


def closed_without_banner(port: int, payload: bytes, timeout: float = 10.0) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        if payload:
            s.sendall(payload)
        try:
            return s.recv(1024) == b""
        except ConnectionResetError:
            return True


class ProxyProtocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-pp-")
        w = cls.work = cls._wd.__enter__()
        cls.sink_port = harness.free_port()
        cls.maildir = w / "maildir"
        cls.sink = harness.Process([DSPROXY, "sink", "--listen", f"127.0.0.1:{cls.sink_port}", "--maildir",
                                    cls.maildir, "--no-fsync", "--fqdn", "sink.test"], w / "sink.log")
        harness.wait_for_port(cls.sink_port, proc=cls.sink.proc)
        cls.port = harness.free_port()
        cls.untrusted_port = harness.free_port()
        (w / "dsproxy.yaml").write_text(f"""
process: {{allow_root: true}}  # the tests run as whoever runs them, root included
listeners:
  balanced:
    role: inbound
    listen: ["127.0.0.1:{cls.port}"]
    fqdn: mx.example.org
    tls: none
    upstream: sink
    proxy_protocol: ["127.0.0.0/8"]
  elsewhere:
    role: inbound
    listen: ["127.0.0.1:{cls.untrusted_port}"]
    fqdn: mx.example.org
    tls: none
    upstream: sink
    proxy_protocol: ["192.0.2.0/24"]
upstreams:
  sink:
    hosts: ["127.0.0.1:{cls.sink_port}"]
    tls: {{level: none}}
accepted_domains: [example.org]
timeouts:
  client: {{proxy_header: 1s}}
limits:
  max_connections_per_client: 2
""")
        cls.proxy = harness.Process([DSPROXY, "run", "-c", w / "dsproxy.yaml"], w / "dsproxy.log")
        harness.wait_for_port(cls.port, proc=cls.proxy.proc)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.sink.stop()
        cls._wd.__exit__(None, None, None)

    def wait_log(self, text: str, timeout: float = 10.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            log = self.proxy.log()
            if text in log:
                return log
            time.sleep(0.05)
        self.fail(f"{text!r} not in dsproxy's log:\n{self.proxy.log()[-3000:]}")

    def send_through(self, header: bytes, subject: str) -> str:
        before = set(harness.maildir_messages(self.maildir))
        with ProxiedSMTP(header, "127.0.0.1", self.port, timeout=10) as smtp:
            smtp.ehlo("client.example.net")
            smtp.sendmail("a@example.net", ["b@example.org"], f"Subject: {subject}\r\n\r\nhello\r\n")
        end = time.monotonic() + 10
        while time.monotonic() < end:
            new = set(harness.maildir_messages(self.maildir)) - before
            if new:
                return next(iter(new)).read_text(errors="replace")
            time.sleep(0.05)
        self.fail("the sink stored nothing")

    def received_header(self, message: str) -> str:
        for value in email.message_from_string(message).get_all("Received", []):
            if "by mx.example.org (dsproxy)" in value:
                return value
        self.fail(f"no Received header from the proxy in:\n{message[:2000]}")

    def test_v1_header_gives_the_client_address(self):
        message = self.send_through(v1_header("198.51.100.7", 40000, "127.0.0.1", self.port), "v1")
        self.assertIn("[198.51.100.7]", self.received_header(message))
        log = self.wait_log("connect from 198.51.100.7 port 40000")
        self.assertIn("proxy=v1 balanced client=198.51.100.7 port=40000 via 127.0.0.1", log)

    def test_v2_header_gives_the_client_address(self):
        message = self.send_through(v2_header("2001:db8::25", 40001, "::1", 25), "v2")
        self.assertIn("2001:db8::25", self.received_header(message))
        log = self.wait_log("connect from 2001:db8::25 port 40001")
        self.assertIn("proxy=v2 balanced client=2001:db8::25 port=40001", log)

    def test_limits_count_the_proxied_client_not_the_balancer(self):
        # max_connections_per_client is 2: three clients behind one balancer
        # address all get a banner.
        conns = []
        try:
            for i in range(3):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                conns.append(s)
                s.sendall(v1_header(f"198.51.100.{20 + i}", 41000 + i, "127.0.0.1", self.port))
                self.assertTrue(s.recv(1024).startswith(b"220 "))
            # a third from one of them is refused with 421; the two arrive at
            # once, and with several I/O threads either may be the one refused
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            conns.append(s)
            s.sendall(v1_header("198.51.100.20", 41010, "127.0.0.1", self.port))
            s2 = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            conns.append(s2)
            s2.sendall(v1_header("198.51.100.20", 41011, "127.0.0.1", self.port))
            self.assertEqual(sorted([s.recv(1024)[:4], s2.recv(1024)[:4]]), [b"220 ", b"421 "])
        finally:
            for s in conns:
                s.close()

    def test_malformed_header_is_closed(self):
        self.assertTrue(closed_without_banner(self.port, b"EHLO client.example.net\r\n"))
        self.wait_log("reason=bad PROXY header: no PROXY protocol header where one was required; closing")
        self.assertTrue(closed_without_banner(self.port, b"PROXY TCP4 198.51.100.300 127.0.0.1 1 2\r\n"))
        self.wait_log("reason=bad PROXY header: PROXY v1: bad address; closing")
        self.assertTrue(closed_without_banner(self.port, b"PROXY TCP4 " + b"1" * 120 + b"\r\n"))
        self.wait_log("PROXY v1: no CRLF within 107 octets")

    def test_silent_peer_is_closed_at_the_deadline(self):
        started = time.monotonic()
        self.assertTrue(closed_without_banner(self.port, b"PROXY TCP4 198.51"))
        self.assertLess(time.monotonic() - started, 5.0)
        self.wait_log("no complete PROXY header within the deadline")

    def test_untrusted_source_is_closed(self):
        self.assertTrue(closed_without_banner(self.untrusted_port,
                                              v1_header("198.51.100.9", 1, "127.0.0.1", self.untrusted_port)))
        self.wait_log("client=127.0.0.1 listener=elsewhere reason=PROXY header expected but the peer is not in "
                      "proxy_protocol; closing")
        self.assertNotIn("198.51.100.9", self.proxy.log())


if __name__ == "__main__":
    DSPROXY = sys.argv.pop(1)
    unittest.main()
