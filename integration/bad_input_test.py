"""Bad input gets a clear reply and a log line, never a crash or a hang (docs/design.md §2, §10).

dsproxy (an inbound STARTTLS listener in front of a `dsproxy sink`) is sent
over-long command and text lines, NUL bytes, binary junk, 8-bit data without
8BITMIME, invalid UTF-8 with SMTPUTF8, HTTP requests (GET, POST, CONNECT), a
TLS ClientHello before STARTTLS and broken TLS records after it, a STARTTLS
with a command pipelined behind it, a thousand RCPTs, a message over the size
limit, slowloris clients (one byte per second) in a command and in DATA, and
connection floods over the per-client and the total limit. Each case checks
the reply code and the log line that names it; the codes are printed as a
table at the end.

Throughout, a well-behaved client (from another loopback address, 127.0.0.5)
sends a message every 0.2 s: every one must be accepted (except while the
total-limit flood holds every slot, when it pauses), none may wait long, and
dsproxy must still be running at the end. The RSS of the dsproxy process is
measured before and after the abuse and must stay bounded. Only loopback
addresses are used.
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
DATA_BLOCK = 3       # timeouts.client.data_block; with limits.min_data_rate 500 B/s
PER_CLIENT = 10      # limits.max_connections_per_client
TOTAL = 40           # limits.max_connections
GOOD_SOURCE = "127.0.0.5"
RESULTS = []         # (bad input, reply) for the table printed at the end
RSS_GROWTH_MAX_KIB = 32 * 1024


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Raw:
    """A plain socket that reads whole SMTP replies."""

    def __init__(self, port, timeout=10.0, source="127.0.0.1"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        self.buf = b""
        self.banner = self.reply()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def reply(self):
        """(code, text) of the next complete reply; (None, b'') at EOF."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                try:
                    chunk = self.sock.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    return (None, b"".join(lines))
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return (int(line[:3]), b"\n".join(lines))

    def command(self, data: bytes):
        self.send(data + b"\r\n")
        return self.reply()

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


def wire(text: bytes) -> str:
    return text.decode("latin-1").split("\n")[-1]


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
limits: {{max_bad_commands: 10, message_size: 1MiB, max_recipients: 100, min_data_rate: 500,
          max_connections_per_client: {PER_CLIENT}, max_connections: {TOTAL}}}
timeouts: {{client: {{command: {COMMAND_TIMEOUT}s, data_block: {DATA_BLOCK}s, tls_handshake: 3s}}}}
policies: {{default: {{level: opportunistic}}}}
""")
        cls.proxy = harness.Process([DSPROXY, "run", "-c", w / "dsproxy.yaml"], w / "dsproxy.log")
        harness.wait_for_port(cls.port, proc=cls.proxy.proc)
        cls.stop_good = threading.Event()
        cls.pause_good = threading.Event()
        cls.good_idle = threading.Event()
        cls.good_results = []
        cls.good = threading.Thread(target=cls.well_behaved, daemon=True)
        cls.good.start()
        time.sleep(1.0)  # a few good messages: the process is warm before RSS is taken
        cls.rss_before = rss_kib(cls.proxy.proc.pid)

    @classmethod
    def well_behaved(cls):
        n = 0
        while not cls.stop_good.is_set():
            if cls.pause_good.is_set():
                cls.good_idle.set()
                cls.stop_good.wait(0.05)
                continue
            cls.good_idle.clear()
            n += 1
            start = time.monotonic()
            try:
                with smtplib.SMTP("127.0.0.1", cls.port, timeout=10, source_address=(GOOD_SOURCE, 0)) as s:
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
        rss_after = rss_kib(cls.proxy.proc.pid) if alive else 0
        code = cls.proxy.stop()
        cls.sink.stop()
        log = cls.proxy.log_path.read_text(errors="replace")
        cls._wd.__exit__(None, None, None)
        failures = [r for r in cls.good_results if r[0] != "ok"]
        slowest = max((t for _, t in cls.good_results), default=0)
        print(f"\nwell-behaved client: {len(cls.good_results)} messages, {len(failures)} failed, "
              f"slowest {slowest:.2f}s")
        print(f"dsproxy RSS: {cls.rss_before} KiB before the abuse, {rss_after} KiB after "
              f"(+{rss_after - cls.rss_before} KiB)")
        print("bad input -> reply:")
        for case, reply in RESULTS:
            print(f"  {case:58s} {reply}")
        growth = rss_after - cls.rss_before
        if not alive or code != 0 or failures or len(cls.good_results) < 5 or slowest > 5 or \
                growth > RSS_GROWTH_MAX_KIB:
            print(log[-5000:])
            raise AssertionError(f"dsproxy alive={alive} exit={code} rss +{growth} KiB; well-behaved client: "
                                 f"{len(cls.good_results)} messages, failures {failures[:5]}, slowest {slowest:.2f}s")

    def session(self, ehlo=True) -> Raw:
        r = Raw(self.port)
        self.addCleanup(r.close)
        self.assertEqual(r.banner[0], 220, r.banner)
        if ehlo:
            self.assertEqual(r.command(b"EHLO client.test")[0], 250)
        return r

    def record(self, case: str, reply):
        RESULTS.append((case, wire(reply[1]) if reply[0] is not None else "(closed without a reply)"))

    def assert_logged(self, pattern: str, since: int = 0):
        harness.wait_for_log(self.proxy, pattern, timeout=10, since=since)

    def test_overlong_command_line_gets_500_and_the_session_goes_on(self):
        r = self.session()
        reply = r.command(b"NOOP " + b"a" * 600)
        self.record("command line of 606 octets (limit 512)", reply)
        self.assertEqual(reply[0], 500, reply)
        self.assertIn(b"5.5.2", reply[1])
        self.assertEqual(r.command(b"NOOP")[0], 250)
        self.assert_logged(r"reason=refused command \d+/10: 500 5.5.2 Error: line too long")

    def test_overlong_text_line_in_data_gets_552(self):
        r = self.session()
        self.assertEqual(r.command(b"MAIL FROM:<a@client.test>")[0], 250)
        self.assertEqual(r.command(b"RCPT TO:<user@accepted.test>")[0], 250)
        self.assertEqual(r.command(b"DATA")[0], 354)
        reply = r.command(b"Subject: long\r\n\r\n" + b"x" * 1200 + b"\r\n.")
        self.record("text line of 1202 octets in DATA (limit 1000)", reply)
        self.assertEqual(reply[0], 552, reply)
        self.assertIn(b"5.6.0", reply[1])
        self.assert_logged(r"reason=message line longer than 1000 octets")

    def test_nul_bytes_in_a_command_get_500(self):
        r = self.session(ehlo=False)
        reply = r.command(b"EHLO client\x00.test")
        self.record("NUL byte in EHLO", reply)
        self.assertEqual(reply[0], 500, reply)
        self.assertIn(b"5.5.2", reply[1])
        self.assert_logged(r"reason=refused command \d+/10: 500 5.5.2 Error: bad characters in command")

    def test_binary_junk_ends_in_421_after_max_bad_commands(self):
        rng = random.Random(7)
        junk = b"\r\n".join(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))).replace(b"\n", b"")
                            for _ in range(40)) + b"\r\n"
        r = self.session(ehlo=False)
        r.send(junk)
        codes = []
        while True:
            code, text = r.reply()
            if code is None:
                break
            codes.append(code)
            last = text
        self.record("40 lines of binary junk", (codes[-1], last))
        self.assertTrue(codes, "no reply at all to binary junk")
        self.assertEqual(codes[-1], 421, codes)
        self.assertTrue(all(500 <= c < 600 for c in codes[:-1]), codes)
        self.assert_logged(r"reason=too many bad commands \(10\)")

    def test_8bit_data_without_8bitmime_is_relayed_and_logged(self):
        r = self.session()
        self.assertEqual(r.command(b"MAIL FROM:<a@client.test>")[0], 250)  # no BODY=8BITMIME
        self.assertEqual(r.command(b"RCPT TO:<user@accepted.test>")[0], 250)
        self.assertEqual(r.command(b"DATA")[0], 354)
        reply = r.command(b"Subject: 8bit\r\n\r\ncaf\xe9 \xff\xfe\r\n.")
        self.record("8-bit body without BODY=8BITMIME", reply)
        self.assertEqual(reply[0], 250, reply)
        self.assert_logged(r"reason=8-bit message data without BODY=8BITMIME, relayed unchanged")
        stored = [p.read_bytes() for p in harness.maildir_messages(self.maildir)]
        self.assertTrue(any(b"caf\xe9 \xff\xfe\r\n" in m for m in stored), "the 8-bit body was changed")

    def test_invalid_utf8_with_smtputf8_and_utf8_without_it(self):
        r = self.session()
        reply = r.command(b"MAIL FROM:<j\xc3(rg@client.test> SMTPUTF8")
        self.record("MAIL with invalid UTF-8, SMTPUTF8", reply)
        self.assertEqual(reply[0], 501, reply)
        self.assertIn(b"5.1.7", reply[1])
        reply = r.command("MAIL FROM:<jörg@client.test>".encode())
        self.record("MAIL with UTF-8, no SMTPUTF8", reply)
        self.assertEqual(reply[0], 553, reply)
        self.assertIn(b"5.6.7", reply[1])
        self.assertEqual(r.command(b"MAIL FROM:<a@client.test> SMTPUTF8")[0], 250)
        reply = r.command(b"RCPT TO:<\xed\xa0\x80@accepted.test>")  # a UTF-16 surrogate: not UTF-8
        self.record("RCPT with invalid UTF-8 (surrogate), SMTPUTF8", reply)
        self.assertEqual(reply[0], 501, reply)
        self.assertIn(b"5.1.3", reply[1])
        reply = r.command("EHLO clïent.test".encode())
        self.record("EHLO with a non-ASCII name", reply)
        self.assertEqual(reply[0], 501, reply)
        self.assert_logged(r"reason=non-ASCII sender address without SMTPUTF8")
        self.assert_logged(r"reason=refused command \d+/10: 501 5.1.7 Error: bad sender address syntax")

    def test_tls_record_before_starttls_is_refused(self):
        r = self.session(ehlo=False)
        mark = self.proxy.log_mark()  # other tests' refused commands are in the same log
        r.send(client_hello())
        reply = r.reply()
        self.record("TLS ClientHello before STARTTLS", reply)
        self.assertIsNotNone(reply[0], "connection closed without a reply")
        self.assertGreaterEqual(reply[0], 500, reply)
        self.assert_logged(r"reason=refused command \d+/10: 50\d 5\.5\.\d", since=mark)

    def test_broken_tls_records_after_starttls_close_the_connection(self):
        r = self.session()
        self.assertEqual(r.command(b"STARTTLS")[0], 220)
        r.send(b"\x16\x03\x01\x00\x10" + b"\x01\x00\x00\x0c" + b"\x00" * 12)  # a ClientHello cut short, garbage
        r.send(b"\x17\x03\x03\xff\xff" + bytes(range(256)) * 4)
        got, end = b"", time.monotonic() + 5
        r.sock.settimeout(5)
        while time.monotonic() < end:
            try:
                chunk = r.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            got += chunk
        else:
            self.fail("the connection stayed open after broken TLS records")
        # At most a TLS alert record (content type 21), never plaintext SMTP after the 220.
        self.assertTrue(got == b"" or got[:1] == b"\x15", got[:40])
        self.record("broken TLS records after STARTTLS", (None, b""))
        RESULTS[-1] = (RESULTS[-1][0], "TLS alert, connection closed" if got else "connection closed")
        self.assert_logged(r"tls=in result=failed reason=")

    def test_http_requests_are_answered_and_closed(self):
        for request in (b"GET / HTTP/1.1\r\nHost: mx.accepted.test\r\n\r\n",
                        b"POST /submit HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
                        b"CONNECT mail.other.test:25 HTTP/1.1\r\n\r\n"):
            with self.subTest(request=request[:8]):
                r = self.session(ehlo=False)
                r.send(request)
                reply = r.reply()
                self.record(f"HTTP {request.split()[0].decode()}", reply)
                self.assertEqual(reply[0], 221, reply)
                self.assertTrue(r.closed(), "the connection stayed open after an HTTP request")
        self.assert_logged(r"reason=HTTP request on the SMTP port")

    def test_command_pipelined_after_starttls_is_not_executed(self):
        r = self.session()
        r.send(b"STARTTLS\r\nMAIL FROM:<attacker@client.test>\r\n")
        self.assertEqual(r.reply()[0], 220)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        r.sock = ctx.wrap_socket(r.sock, server_hostname="mx.accepted.test")
        r.buf = b""
        code, text = r.command(b"EHLO client.test")
        self.assertEqual(code, 250, text)
        self.assertNotIn(b"STARTTLS", text)
        # Had the pipelined MAIL run, this RCPT would be accepted.
        reply = r.command(b"RCPT TO:<user@accepted.test>")
        self.record("MAIL pipelined behind STARTTLS, then RCPT in TLS", reply)
        self.assertEqual(reply[0], 503, reply)
        self.assert_logged(r"reason=\d+ bytes pipelined after STARTTLS dropped")

    def test_a_thousand_recipients_get_452_after_the_limit(self):
        r = self.session()
        self.assertEqual(r.command(b"MAIL FROM:<a@client.test>")[0], 250)
        codes = []
        for batch in range(10):  # pipelined, 100 at a time (RFC 2920)
            r.send(b"".join(b"RCPT TO:<u%d@accepted.test>\r\n" % (batch * 100 + i) for i in range(100)))
            for _ in range(100):
                code, text = r.reply()
                codes.append(code)
                last = text
        self.record("1000 RCPTs (limit 100): the 101st and later", (codes[-1], last))
        self.assertEqual(codes[:100], [250] * 100)
        self.assertEqual(set(codes[100:]), {452}, sorted(set(codes)))
        self.assertIn(b"4.5.3", last)
        self.assertEqual(r.command(b"DATA")[0], 354)
        self.assertEqual(r.command(b"Subject: many\r\n\r\nhi\r\n.")[0], 250)
        self.assert_logged(r"reason=recipient limit of 100 reached")

    def test_message_over_the_size_limit_gets_552(self):
        r = self.session()
        reply = r.command(b"MAIL FROM:<a@client.test> SIZE=2000000")
        self.record("MAIL SIZE=2000000 (limit 1 MiB)", reply)
        self.assertEqual(reply[0], 552, reply)
        self.assertIn(b"5.3.4", reply[1])
        self.assert_logged(r"reason=declared SIZE=2000000 over the limit of 1048576")
        self.assertEqual(r.command(b"MAIL FROM:<a@client.test>")[0], 250)
        self.assertEqual(r.command(b"RCPT TO:<user@accepted.test>")[0], 250)
        self.assertEqual(r.command(b"DATA")[0], 354)
        line = b"y" * 998 + b"\r\n"
        r.send(b"Subject: big\r\n\r\n")
        for _ in range(1600):  # 1.6 MB, streamed
            r.send(line)
        reply = r.command(b".")
        self.record("1.6 MB message, no SIZE (limit 1 MiB)", reply)
        self.assertEqual(reply[0], 552, reply)
        self.assertIn(b"5.3.4", reply[1])
        self.assert_logged(r"reason=message over the size limit of 1048576")
        time.sleep(0.3)
        # The whole maildir: the well-behaved client adds messages meanwhile, so no slice of it.
        big = [p for p in harness.maildir_messages(self.maildir) if b"Subject: big" in p.read_bytes()]
        self.assertEqual(big, [], "the oversized message was stored")

    def slow(self, r: Raw, data: bytes, seconds_per_byte=1.0):
        """Sends one byte per interval until the server answers or closes; returns (reply, elapsed)."""
        start = time.monotonic()
        for byte in data:
            try:
                r.send(bytes([byte]))
            except OSError:
                break
            time.sleep(seconds_per_byte)
            r.sock.setblocking(False)
            try:
                chunk = r.sock.recv(65536)
                r.buf += chunk
                if not chunk or b"\r\n" in r.buf:
                    break
            except BlockingIOError:
                pass
            except ConnectionResetError:
                break
            finally:
                r.sock.setblocking(True)
        r.sock.settimeout(10)
        reply = r.reply()
        return reply, time.monotonic() - start

    def test_slowloris_in_commands_is_cut_off_at_the_command_deadline(self):
        r = self.session(ehlo=False)
        reply, elapsed = self.slow(r, b"EHLO slow.client.test\r\n")
        self.record("slowloris, 1 byte/s in EHLO (command timeout 3 s)", reply)
        self.assertEqual(reply[0], 421, reply)
        self.assertIn(b"4.4.2", reply[1])
        self.assertLess(elapsed, COMMAND_TIMEOUT + 4, "the deadline is per command, not per read")
        self.assert_logged(r"reason=timeout in state need-helo")

    def test_slowloris_in_data_is_cut_off_by_the_minimum_rate(self):
        r = self.session()
        self.assertEqual(r.command(b"MAIL FROM:<a@client.test>")[0], 250)
        self.assertEqual(r.command(b"RCPT TO:<user@accepted.test>")[0], 250)
        self.assertEqual(r.command(b"DATA")[0], 354)
        # Each byte comes well within data_block (3 s): only the rate (500 B/s) can stop it.
        reply, elapsed = self.slow(r, b"Subject: slow\r\n\r\n" + b"z" * 200 + b"\r\n.\r\n", seconds_per_byte=1.0)
        self.record("slowloris, 1 byte/s in DATA (min_data_rate 500 B/s)", reply)
        self.assertEqual(reply[0], 421, reply)
        self.assertIn(b"4.4.2", reply[1])
        self.assertLess(elapsed, DATA_BLOCK + 4)
        self.assert_logged(r"reason=message data slower than the minimum rate of 500 bytes/s")
        self.assert_logged(r"reason=timeout in state data")

    def flood(self, sources, per_source):
        """Opens per_source connections from each source address; returns (held, refused replies)."""
        held, refused = [], []
        for src in sources:
            for _ in range(per_source):
                try:
                    c = Raw(self.port, source=src)
                except OSError as e:
                    refused.append((None, str(e).encode()))
                    continue
                if c.banner[0] == 220:
                    held.append(c)
                else:
                    refused.append(c.banner)
                    c.close()
        return held, refused

    def test_flood_over_the_per_client_limit(self):
        # An address of its own: an earlier test's 127.0.0.1 session may still hold a slot.
        held, refused = self.flood(["127.0.3.1"], 3 * PER_CLIENT)
        try:
            self.record(f"{3 * PER_CLIENT} connections from one address (limit {PER_CLIENT})", refused[0])
            self.assertEqual(len(held), PER_CLIENT, refused[:3])
            self.assertEqual({code for code, _ in refused}, {421}, refused[:3])
            self.assertIn(b"4.7.0", refused[0][1])
            # The well-behaved client (another address) is served meanwhile.
            n = len(self.good_results)
            self.assertTrue(harness.wait_until(lambda: len(self.good_results) >= n + 2, 10))
            self.assertEqual([x for x, _ in self.good_results[n:]], ["ok"] * (len(self.good_results) - n))
        finally:
            for c in held:
                c.close()
        self.assert_logged(r"client=127\.0\.3\.1 reason=connection refused: too many connections from this address")

    def test_flood_over_the_total_limit(self):
        self.pause_good.set()
        try:
            self.assertTrue(self.good_idle.wait(15), "the well-behaved client did not pause")
            sources = [f"127.0.1.{i}" for i in range(1, TOTAL // PER_CLIENT + 1)]

            def all_free():  # earlier sessions have finished
                held, _ = self.flood(sources, PER_CLIENT)
                ok = len(held) == TOTAL
                if not ok:
                    for c in held:
                        c.close()
                return held if ok else None
            held = harness.wait_until(all_free, 10, 0.5)
            self.assertTrue(held, "could not open the total number of connections")
            try:
                extra = Raw(self.port, source="127.0.2.1")
                self.record(f"connection {TOTAL + 1} (max_connections {TOTAL})", extra.banner)
                self.assertEqual(extra.banner[0], 421, extra.banner)
                self.assertIn(b"4.7.0", extra.banner[1])
                self.assertTrue(extra.closed())
                extra.close()
            finally:
                for c in held:
                    c.close()
            self.assert_logged(r"client=127\.0\.2\.1 reason=connection refused: \d+ connections open \(limit\)")

            def slot_free():  # a slot is freed when its session ends, a moment after the close
                c = Raw(self.port, source="127.0.2.2")
                c.close()
                return c.banner[0] == 220
            self.assertTrue(harness.wait_until(slot_free, 15, 0.2), "no connection slot came free after the flood")
        finally:
            self.pause_good.clear()
        # Service resumes for everyone once the flood is gone.
        n = len(self.good_results)
        self.assertTrue(harness.wait_until(lambda: len(self.good_results) >= n + 2, 15))


if __name__ == "__main__":
    DSPROXY = sys.argv.pop(1)
    unittest.main(verbosity=2)
