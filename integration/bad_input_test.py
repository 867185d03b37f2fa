"""Bad input gets a clear reply, never a crash or a hang (SPEC §2, §10).

dsproxy (an inbound STARTTLS listener in front of a `dsproxy sink`) is sent
over-long command lines, NUL bytes, binary junk, a TLS ClientHello before
STARTTLS, HTTP requests, a STARTTLS with a command pipelined behind it, and a
slowloris client that sends one byte per second. Each case checks the reply
code. Throughout, a well-behaved client sends a message every 0.2 s: every
one must be accepted, none may wait long, and dsproxy must still be running
at the end. Only loopback addresses are used.
"""
import random
import socket
import ssl
import sys
import threading
import time
import unittest
import smtplib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DSPROXY = None
COMMAND_TIMEOUT = 3  # timeouts.client.command below


class Raw:
    """A plain socket that reads whole SMTP replies."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.banner = self.reply()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def reply(self):
        """(code, text) of the next complete reply; (None, b'') at EOF."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return (None, b"".join(lines))
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return (int(line[:3]), b"\n".join(lines))

    def closed(self) -> bool:
        """True when the server closes the connection with nothing more to say."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def client_hello() -> bytes:
    """The first flight of a real TLS handshake, made by Python's ssl module."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="mx.accepted.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-bad-")
        w = cls.work = cls._wd.__enter__()
        pki = harness.Pki(w / "pki")
        cert, key = pki.leaf("mx", dns=["mx.accepted.test"])
        (w / "certs").mkdir()
        (w / "certs" / "mx.pem").write_bytes(cert.read_bytes())
        (w / "certs" / "mx.key").write_bytes(key.read_bytes())
        (w / "certs" / "mx.key").chmod(0o600)
        sink_port, cls.port = harness.free_port(), harness.free_port()
        cls.maildir = w / "maildir"
        cls.sink = harness.Process([DSPROXY, "sink", "--listen", f"127.0.0.1:{sink_port}", "--maildir", cls.maildir,
                                    "--no-fsync"], w / "sink.log")
        harness.wait_for_port(sink_port, proc=cls.sink.proc)
        (w / "dsproxy.yaml").write_text(f"""
logging: {{level: info}}
process: {{allow_root: true}}  # the tests run as whoever runs them, root included
listeners:
  in:
    role: inbound
    listen: ["127.0.0.1:{cls.port}"]
    fqdn: mx.accepted.test
    tls: starttls
    upstream: sink
upstreams:
  sink: {{hosts: ["127.0.0.1:{sink_port}"], tls: {{level: none}}}}
accepted_domains: [accepted.test]
certificates: {{directories: [certs]}}
limits: {{max_bad_commands: 10}}
timeouts: {{client: {{command: {COMMAND_TIMEOUT}s, tls_handshake: 3s}}}}
policies: {{default: {{level: opportunistic}}}}
""")
        cls.proxy = harness.Process([DSPROXY, "run", "-c", w / "dsproxy.yaml"], w / "dsproxy.log")
        harness.wait_for_port(cls.port, proc=cls.proxy.proc)
        cls.stop_good = threading.Event()
        cls.good_results = []
        cls.good = threading.Thread(target=cls.well_behaved, daemon=True)
        cls.good.start()

    @classmethod
    def well_behaved(cls):
        n = 0
        while not cls.stop_good.is_set():
            n += 1
            start = time.monotonic()
            try:
                with smtplib.SMTP("127.0.0.1", cls.port, timeout=10) as s:
                    s.sendmail("good@client.test", ["user@accepted.test"], f"Subject: good {n}\r\n\r\nhello\r\n")
                cls.good_results.append(("ok", time.monotonic() - start))
            except (smtplib.SMTPException, OSError) as e:
                cls.good_results.append((f"{type(e).__name__}: {e}", time.monotonic() - start))
            cls.stop_good.wait(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.stop_good.set()
        cls.good.join(30)
        alive = cls.proxy.proc.poll() is None
        code = cls.proxy.stop()
        cls.sink.stop()
        log = cls.proxy.log_path.read_text(errors="replace")
        cls._wd.__exit__(None, None, None)
        failures = [r for r in cls.good_results if r[0] != "ok"]
        slowest = max((t for _, t in cls.good_results), default=0)
        print(f"\nwell-behaved client: {len(cls.good_results)} messages, {len(failures)} failed, "
              f"slowest {slowest:.2f}s")
        if not alive or code != 0 or failures or len(cls.good_results) < 5 or slowest > 5:
            print(log[-5000:])
            raise AssertionError(f"dsproxy alive={alive} exit={code}; well-behaved client: "
                                 f"{len(cls.good_results)} messages, failures {failures[:5]}, slowest {slowest:.2f}s")

    def session(self) -> Raw:
        r = Raw(self.port)
        self.assertEqual(r.banner[0], 220, r.banner)
        return r

    def test_overlong_command_line_gets_500_and_the_session_goes_on(self):
        r = self.session()
        r.send(b"NOOP " + b"a" * 600 + b"\r\n")
        code, text = r.reply()
        self.assertEqual(code, 500, text)
        self.assertIn(b"5.5.2", text)
        r.send(b"NOOP\r\n")
        self.assertEqual(r.reply()[0], 250)
        r.close()

    def test_nul_bytes_in_a_command_get_500(self):
        r = self.session()
        r.send(b"EHLO client\x00.test\r\n")
        code, text = r.reply()
        self.assertEqual(code, 500, text)
        self.assertIn(b"5.5.2", text)
        r.close()

    def test_binary_junk_ends_in_421_after_max_bad_commands(self):
        rng = random.Random(7)
        junk = b"\r\n".join(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))).replace(b"\n", b"")
                            for _ in range(40)) + b"\r\n"
        r = self.session()
        r.send(junk)
        codes = []
        while True:
            code, text = r.reply()
            if code is None:
                break
            codes.append(code)
        self.assertTrue(codes, "no reply at all to binary junk")
        self.assertEqual(codes[-1], 421, codes)
        self.assertTrue(all(500 <= c < 600 for c in codes[:-1]), codes)
        r.close()

    def test_tls_record_before_starttls_is_refused(self):
        r = self.session()
        r.send(client_hello())
        code, text = r.reply()
        self.assertIsNotNone(code, "connection closed without a reply")
        self.assertGreaterEqual(code, 500, text)
        r.close()

    def test_http_requests_are_answered_and_closed(self):
        for request in (b"GET / HTTP/1.1\r\nHost: mx.accepted.test\r\n\r\n",
                        b"POST /submit HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
                        b"CONNECT mail.other.test:25 HTTP/1.1\r\n\r\n"):
            with self.subTest(request=request[:8]):
                r = self.session()
                r.send(request)
                code, text = r.reply()
                self.assertEqual(code, 221, text)
                self.assertTrue(r.closed(), "the connection stayed open after an HTTP request")
                r.close()

    def test_command_pipelined_after_starttls_is_not_executed(self):
        r = self.session()
        r.send(b"EHLO client.test\r\n")
        self.assertEqual(r.reply()[0], 250)
        r.send(b"STARTTLS\r\nMAIL FROM:<attacker@client.test>\r\n")
        self.assertEqual(r.reply()[0], 220)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        r.sock = ctx.wrap_socket(r.sock, server_hostname="mx.accepted.test")
        r.buf = b""
        r.send(b"EHLO client.test\r\n")
        code, text = r.reply()
        self.assertEqual(code, 250, text)
        self.assertNotIn(b"STARTTLS", text)
        # Had the pipelined MAIL run, this RCPT would be accepted.
        r.send(b"RCPT TO:<user@accepted.test>\r\n")
        code, text = r.reply()
        self.assertEqual(code, 503, text)
        r.close()

    def test_slowloris_in_commands_is_cut_off_at_the_command_deadline(self):
        r = self.session()
        start = time.monotonic()
        code = None
        for byte in b"EHLO slow.client.test\r\n":
            try:
                r.send(bytes([byte]))
            except OSError:
                break
            time.sleep(1)
            r.sock.setblocking(False)
            try:
                data = r.sock.recv(65536)
                r.buf += data
                if not data or b"\r\n" in r.buf:
                    break
            except BlockingIOError:
                pass
            finally:
                r.sock.setblocking(True)
        r.sock.settimeout(10)
        code, text = r.reply()
        elapsed = time.monotonic() - start
        self.assertEqual(code, 421, text)
        self.assertIn(b"4.4.2", text)
        self.assertLess(elapsed, COMMAND_TIMEOUT + 4, "the deadline is per command, not per read")
        r.close()


if __name__ == "__main__":
    DSPROXY = sys.argv.pop(1)
    unittest.main(verbosity=2)
