"""relay_test — dsproxy's inbound role end to end: real clients (swaks, Python's smtplib, raw
sockets) through `dsproxy run` to `dsproxy sink`, counting what lands in the sink's Maildir.

Covers docs/design.md §2 (relay with and without STARTTLS, the Received header, pipelining, the
STARTTLS injection rule, end-to-end acknowledgement under backend faults, limits, SMTP
smuggling), §1/§10 (no open relay, address tricks) and §8 (SIGTERM drains).

Usage: python3 relay_test.py PATH/TO/dsproxy [unittest arguments]
"""
import contextlib
import shutil
import signal
import smtplib
import socket
import tempfile
import threading
import time
import unittest
from pathlib import Path

import harness
from harness import Stack, client_context, dsproxy_received, message, received_headers, swaks, wait_for_log, \
    wait_until

WORK = None
PKI = None
MX = None  # (cert, key) for the listener's fqdn, issued by the test CA


def setUpModule():
    global WORK, PKI, MX
    WORK = Path(tempfile.mkdtemp(prefix="dsproxy-relay-"))
    PKI = harness.Pki(WORK / "pki")
    MX = PKI.leaf("mx.example.com", dns=["mx.example.com"])


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


class StackTest(unittest.TestCase):
    """Each test starts its own dsproxy and sink on free ports; both are stopped at the end."""

    def stack(self, certs=None, **kw) -> Stack:
        st = Stack(WORK / self.id().rsplit(".", 2)[-2] / self._testMethodName, PKI,
                   certs=[MX] if certs is None else certs, **kw)
        self.addCleanup(self.stop_cleanly, st)
        st.start()
        return st

    def stop_cleanly(self, st: Stack):
        """Every test ends with SIGTERM: dsproxy must drain and exit 0 (docs/design.md §8)."""
        if st.proxy and st.proxy.proc.poll() is not None:  # a test already stopped it and checked
            st.stop()
            return
        rc, _ = st.stop()
        self.assertEqual(rc, 0, st.logs())

    def greet(self, st: Stack, ehlo="client.test"):
        c = st.client()
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command(f"EHLO {ehlo}").code, 250)
        return c

    def assert_reply(self, reply, code, enhanced=None, st=None):
        msg = f"{reply!r}" + (f"\n{st.logs()}" if st else "")
        self.assertEqual(reply.code, code, msg)
        if enhanced:
            self.assertTrue(reply.text.startswith(enhanced + " "), msg)

    def send_message(self, c, st, mail="sender@sender.test", rcpts=("user@example.com",), body=None):
        """One whole transaction; returns the reply to the final dot."""
        self.assert_reply(c.command(f"MAIL FROM:<{mail}>"), 250, st=st)
        for r in rcpts:
            self.assert_reply(c.command(f"RCPT TO:<{r}>"), 250, st=st)
        self.assert_reply(c.command("DATA"), 354, st=st)
        c.send((body or message(sender=mail, to=rcpts[0])) + ".\r\n")
        return c.reply()


class SwaksRelay(StackTest):
    """swaks through dsproxy to the sink, with and without STARTTLS."""

    def test_plain(self):
        st = self.stack()
        r = swaks(st.port, "--from", "alice@sender.test", "--to", "bob@example.com", "--ehlo", "client.test",
                  "--header", "Subject: plain relay")
        self.assertEqual(r.returncode, 0, f"{r}\n{st.logs()}")
        self.assertEqual(r.final_dot_reply()[0], 250, r)
        texts = st.message_texts()
        self.assertEqual(len(texts), 1, st.logs())
        self.assertIn("Subject: plain relay", texts[0])
        ours = [h for h in received_headers(texts[0]) if "(dsproxy)" in h and "by mx.example.com" in h]
        self.assertEqual(len(ours), 1, texts[0])
        h = ours[0]
        self.assertIn("from client.test", h)
        self.assertIn("[127.0.0.1]", h)
        self.assertIn(" with ESMTP id ", h)
        self.assertIn("for <bob@example.com>", h)
        self.assertNotIn("using", h)
        self.assertRegex(st.proxy_log(), r"txn from=<alice@sender\.test> to=<bob@example\.com> size=\d+ "
                                         r"upstream=backend result=\"250 2\.0\.0 Ok: queued as ")

    def test_starttls(self):
        st = self.stack()
        r = swaks(st.port, "-tls", "--from", "alice@sender.test", "--to", "bob@example.com", "--ehlo", "client.test",
                  "--header", "Subject: tls relay")
        self.assertEqual(r.returncode, 0, f"{r}\n{st.logs()}")
        self.assertIn("TLS started", r.output)
        self.assertEqual(r.final_dot_reply()[0], 250, r)
        texts = st.message_texts()
        self.assertEqual(len(texts), 1, st.logs())
        self.assertIn("Subject: tls relay", texts[0])
        h = dsproxy_received(texts[0])
        self.assertIn(" with ESMTPS id ", h)
        self.assertRegex(h, r"\(using TLSv1\.[23] with cipher \S+ \(\d+ bits\); client certificate not presented\)")
        self.assertRegex(st.proxy_log(), r"tls=in result=ok peer=127\.0\.0\.1 protocol=TLSv1\.[23]")

    def test_relay_to_other_domain_is_denied(self):
        st = self.stack()
        r = swaks(st.port, "--from", "alice@sender.test", "--to", "bob@other.test")
        self.assertNotEqual(r.returncode, 0, r)
        codes = r.replies()
        self.assertIn(550, [c for c, _ in codes], r)
        self.assertTrue(any(c == 550 and t.startswith("5.7.1") for c, t in codes), r)
        self.assertIsNone(r.final_dot_reply(), r)
        self.assertEqual(st.messages(), [])

    def test_address_tricks_never_widen_relaying(self):
        st = self.stack()
        c = self.greet(st)
        self.assert_reply(c.command("MAIL FROM:<alice@sender.test>"), 250, st=st)
        tricks = [
            "user%other.test@example.com",       # percent hack
            "other.test!user@example.com",       # bang path
            '"a@b"@example.com',                 # quoted local part with @
            '"user@other.test"@example.com',
            "@example.com:user@other.test",      # source route via an accepted domain
            "@a,@b:user@other.test",
            "user@[127.0.0.1]",                  # address literal
            "user@sub.example.com",              # subdomain not accepted
            "user@example.com.other.test",
        ]
        for t in tricks:
            with self.subTest(rcpt=t):
                r = c.command(f"RCPT TO:<{t}>")
                self.assertGreaterEqual(r.code, 500, r)
                if r.code == 550:
                    self.assertTrue(r.text.startswith("5.7.1 "), r)
        # A source route ending in an accepted domain reaches that domain only, without the route.
        self.assert_reply(c.command("RCPT TO:<@a,@b:user@example.com>"), 250, st=st)
        self.assert_reply(c.command("DATA"), 354, st=st)
        c.send(message() + ".\r\n")
        self.assert_reply(c.reply(), 250, st=st)
        texts = st.message_texts()
        self.assertEqual(len(texts), 1)
        # The sink's own Received header records the envelope recipient it was given.
        sink_rcvd = [h for h in received_headers(texts[0]) if "by sink.test" in h]
        self.assertEqual(len(sink_rcvd), 1, texts[0])
        self.assertIn("for <user@example.com>", sink_rcvd[0])
        self.assertNotIn("other.test", st.sink_log())


class Pipelining(StackTest):
    """RFC 2920 through the proxy with smtplib; the STARTTLS injection rule (CVE-2011-0411)."""

    def test_pipelined_transaction_replies_in_order(self):
        st = self.stack()
        s = smtplib.SMTP("127.0.0.1", st.port, local_hostname="client.test", timeout=10)
        self.addCleanup(s.close)
        s.ehlo()
        self.assertTrue(s.has_extn("pipelining"))
        self.assertTrue(s.has_extn("starttls"))
        s.starttls(context=client_context())
        s.ehlo()
        self.assertFalse(s.has_extn("starttls"), "STARTTLS offered again inside TLS")
        s.send("MAIL FROM:<alice@sender.test>\r\nRCPT TO:<one@example.com>\r\nRCPT TO:<x@other.test>\r\n"
               "RCPT TO:<two@example.com>\r\nDATA\r\n")
        codes = [s.getreply()[0] for _ in range(5)]
        self.assertEqual(codes, [250, 250, 550, 250, 354], st.logs())
        # End of data pipelined with the whole next transaction.
        s.send(message(subject="first") + ".\r\nMAIL FROM:<bob@sender.test>\r\nRCPT TO:<three@example.com>\r\n"
                                          "DATA\r\n")
        codes = [s.getreply()[0] for _ in range(4)]
        self.assertEqual(codes, [250, 250, 250, 354], st.logs())
        s.send(message(subject="second") + ".\r\nQUIT\r\n")
        self.assertEqual(s.getreply()[0], 250)
        self.assertEqual(s.getreply()[0], 221)
        texts = st.message_texts()
        self.assertEqual(len(texts), 2, st.logs())
        first = next(t for t in texts if "Subject: first" in t)
        second = next(t for t in texts if "Subject: second" in t)
        self.assertNotIn(" for <", dsproxy_received(first))  # two recipients: no "for" clause
        self.assertIn("for <three@example.com>", dsproxy_received(second))
        self.assertIn("using TLS", dsproxy_received(second))

    def test_smtplib_sendmail(self):
        st = self.stack()
        with smtplib.SMTP("127.0.0.1", st.port, local_hostname="client.test", timeout=10) as s:
            s.starttls(context=client_context())
            refused = s.sendmail("alice@sender.test", ["a@example.com", "b@example.com", "c@other.test"],
                                 message(subject="sendmail").encode())
            self.assertEqual(list(refused), ["c@other.test"])
            self.assertEqual(refused["c@other.test"][0], 550)
        self.assertEqual(len(st.messages()), 1, st.logs())

    def test_bytes_after_starttls_are_discarded(self):
        st = self.stack()
        c = self.greet(st)
        c.send("STARTTLS\r\nRSET\r\n")  # one segment
        self.assert_reply(c.reply(), 220, st=st)
        c.starttls()
        # Had the injected RSET run inside TLS, its 250 would arrive unasked.
        self.assertEqual(c.quiet_for(1.0), b"", st.logs())
        r = c.command("EHLO client.test")
        self.assert_reply(r, 250, st=st)
        self.assertEqual(r.lines[0], "mx.example.com")
        self.assertNotIn("STARTTLS", r.lines)
        self.assertRegex(st.proxy_log(), r"\d+ bytes pipelined after STARTTLS dropped")

    def test_injected_mail_is_not_executed_after_tls(self):
        st = self.stack()
        c = self.greet(st)
        c.send("STARTTLS\r\nMAIL FROM:<evil@sender.test>\r\n")
        self.assert_reply(c.reply(), 220, st=st)
        c.starttls()
        self.assertEqual(c.quiet_for(0.5), b"")
        # State was reset: a new EHLO is needed, and there is no transaction.
        self.assert_reply(c.command("MAIL FROM:<a@sender.test>"), 503, "5.5.1", st=st)
        self.assert_reply(c.command("EHLO client.test"), 250, st=st)
        self.assert_reply(c.command("RCPT TO:<bob@example.com>"), 503, "5.5.1", st=st)
        self.assert_reply(c.command("STARTTLS"), 554, st=st)  # refused inside TLS
        self.assertEqual(st.messages(), [])

    def test_starttls_refused_inside_a_transaction(self):
        st = self.stack()
        c = self.greet(st)
        self.assert_reply(c.command("MAIL FROM:<a@sender.test>"), 250, st=st)
        self.assert_reply(c.command("STARTTLS"), 503, "5.5.1", st=st)


class FakeUpstream(threading.Thread):
    """A scripted SMTP upstream for one connection: `script` maps a command prefix to the exact
    bytes answered (several replies in one write when the script says so). Records what it got."""

    def __init__(self, port: int, script: dict, greeting=b"220 fake.test ESMTP\r\n", silent_after=None,
                 hangup_after=None):
        """greeting: b"" for an upstream that never greets. silent_after: a command prefix after
        whose scripted answer nothing more is ever written (a peer that stalls in the TLS handshake).
        hangup_after: (command prefix, n): once n bytes more have arrived after that command's
        answer, the connection is closed without a word (a backend that dies mid-message)."""
        super().__init__(daemon=True)
        self.script, self.greeting, self.silent_after = script, greeting, silent_after
        self.hangup_after = hangup_after
        self.hung_up = threading.Event()
        self.received = b""
        self.server = socket.create_server(("127.0.0.1", port))
        self.server.settimeout(15)

    def run(self):
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            conn.sendall(self.greeting)
            buffer, silent, counting = b"", False, None
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    self.received += data
                    if counting is not None:
                        counting += len(data)
                        if counting >= self.hangup_after[1]:
                            self.hung_up.set()
                            return
                        continue
                    buffer += data
                    while b"\r\n" in buffer and not silent:
                        line, _, buffer = buffer.partition(b"\r\n")
                        answer = next((v for k, v in self.script.items() if line.upper().startswith(k)), b"250 ok\r\n")
                        conn.sendall(answer)
                        silent = self.silent_after is not None and line.upper().startswith(self.silent_after)
                        if self.hangup_after and line.upper().startswith(self.hangup_after[0]):
                            counting, buffer = len(buffer), b""
            except OSError:
                return

    def close(self):
        # shutdown() wakes an accept() blocked in the thread; close() alone would leave the
        # listening socket alive (and its port taken) until the accept timed out.
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.join(5)


class UpstreamStartTls(StackTest):
    """CVE-2011-0411 on the upstream leg (docs/design.md §2): a reply pre-staged behind the upstream's 220 to
    STARTTLS is an attack; the upstream transaction is refused, nothing is sent in plain text."""

    def test_reply_staged_after_upstream_220_is_refused(self):
        st = self.stack(upstream_down=True)
        fake = FakeUpstream(st.sink_port, {
            b"EHLO": b"250-fake.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
            b"STARTTLS": b"220 2.0.0 go ahead\r\n250 2.1.0 injected\r\n",  # one write
        })
        fake.start()
        self.addCleanup(fake.close)
        c = self.greet(st)
        self.assert_reply(c.command("MAIL FROM:<alice@sender.test>"), 250, st=st)
        r = c.command("RCPT TO:<bob@example.com>")
        self.assertTrue(400 <= r.code < 500, f"{r!r}\n{st.logs()}")
        self.assertIn("upstream sent plaintext after its 220 to STARTTLS", st.proxy_log())
        fake.join(10)
        after = fake.received.split(b"STARTTLS\r\n", 1)
        self.assertEqual(len(after), 2, fake.received)
        self.assertNotIn(b"MAIL FROM", after[1], "dsproxy went on in plain text")
        self.assertNotIn(b"MAIL FROM", after[0], "MAIL sent before STARTTLS")


class BackendFaults(StackTest):
    """End-to-end acknowledgement (docs/design.md §2, §10): every backend failure is a 4xx to the client,
    never a 250, and the sink holds exactly the messages the clients saw 250 for."""

    SHORT = {"timeouts": {"upstream": {"greeting": "2s", "ehlo": "2s", "mail": "2s", "rcpt": "2s",
                                       "data_init": "2s", "data_final": "2s"}}}

    def transaction_reply(self, st, stop_at=None):
        """Runs MAIL/RCPT/DATA/dot; returns (stage, reply) of the first non-positive reply, or ("dot", reply)."""
        c = st.client(timeout=20)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        for stage, line in (("mail", "MAIL FROM:<alice@sender.test>"), ("rcpt", "RCPT TO:<bob@example.com>")):
            r = c.command(line)
            if r.code >= 400:
                return stage, r
        r = c.command("DATA")
        if r.code != 354:
            return "data", r
        c.send(message(size=3000) + ".\r\n")
        return "dot", c.reply()

    def assert_temporary(self, st, expected_stage, r, stage):
        self.assertEqual(stage, expected_stage, f"{r!r}\n{st.logs()}")
        self.assertTrue(400 <= r.code < 500, f"{r!r}\n{st.logs()}")
        self.assertEqual(st.messages(), [], st.logs())

    def test_sink_closes_at_data(self):
        st = self.stack(sink_args=["--fault", "data=close"])
        stage, r = self.transaction_reply(st)
        self.assert_temporary(st, "data", r, stage)

    def test_sink_closes_at_end_of_data(self):
        st = self.stack(sink_args=["--fault", "end-of-data=close"])
        stage, r = self.transaction_reply(st)
        self.assert_temporary(st, "dot", r, stage)

    def test_sink_451_at_end_of_data_is_relayed(self):
        st = self.stack(sink_args=["--fault", "end-of-data=451"])
        stage, r = self.transaction_reply(st)
        self.assert_temporary(st, "dot", r, stage)
        self.assertEqual(r.code, 451)
        self.assertEqual(r.text, "4.3.0 Injected temporary failure")  # the backend's own reply

    def assert_stall_times_out(self, fault, stage, upstream_stage):
        """The sink never answers at one stage: the client gets a 4xx once the 2 s timeout runs out."""
        st = self.stack(sink_args=["--fault", fault], config=self.SHORT)
        started = time.monotonic()
        got_stage, r = self.transaction_reply(st)
        elapsed = time.monotonic() - started
        self.assert_temporary(st, stage, r, got_stage)
        self.assertIn(f"sink fault at {upstream_stage}: stall", st.sink_log())
        self.assertIn(f"timeout waiting for the reply to {upstream_stage}", st.proxy_log())
        self.assertGreaterEqual(elapsed, 1.8, "answered before the upstream timeout")
        self.assertLess(elapsed, 15)

    def test_sink_never_answers_the_final_dot(self):
        self.assert_stall_times_out("end-of-data=stall", "dot", "end of data")

    def test_sink_never_answers_rcpt(self):
        self.assert_stall_times_out("rcpt=stall", "rcpt", "RCPT")

    def test_sink_never_answers_data(self):
        self.assert_stall_times_out("data=stall", "data", "DATA")

    def test_upstream_down(self):
        st = self.stack(upstream_down=True)
        stage, r = self.transaction_reply(st)
        self.assert_temporary(st, "rcpt", r, stage)
        r = swaks(st.port, "--from", "alice@sender.test", "--to", "bob@example.com")
        self.assertNotEqual(r.returncode, 0, r)
        self.assertIsNone(r.final_dot_reply(), r)
        self.assertTrue(all(c < 500 for c, _ in r.replies()), r)

    def test_count_equals_250s_under_random_faults(self):
        st = self.stack(sink_args=["--seed", "11", "--fault", "end-of-data=451@0.25", "--fault",
                                   "end-of-data=close@0.2", "--fault", "data=close@0.1", "--fault", "rcpt=452@0.1",
                                   "--no-fsync"])
        accepted = failed = 0
        s = None
        for i in range(40):
            if s is None:
                s = smtplib.SMTP("127.0.0.1", st.port, local_hostname="client.test", timeout=15)
            try:
                s.sendmail("alice@sender.test", ["bob@example.com"], message(subject=f"n{i}").encode())
                accepted += 1  # smtplib returns only on 250 to the final dot
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as e:
                code = e.smtp_code if isinstance(e, smtplib.SMTPResponseException) \
                    else next(iter(e.recipients.values()))[0]
                self.assertTrue(400 <= code < 500, f"message {i}: {e}\n{st.logs()}")
                failed += 1
                try:
                    s.rset()  # smtplib leaves the transaction open when DATA itself is refused
                except smtplib.SMTPServerDisconnected:
                    s = None
            except smtplib.SMTPServerDisconnected:
                failed += 1
                s = None
        if s is not None:
            s.quit()
        print(f"\n  random faults: {accepted} accepted, {failed} failed", flush=True)
        self.assertGreater(accepted, 0)
        self.assertGreater(failed, 0)
        self.assertEqual(len(st.messages()), accepted, st.logs())
        self.assertEqual(st.sink_log().count("sink stored"), accepted)

    def test_client_disconnect_mid_data_stores_nothing(self):
        st = self.stack()
        for n, tail in enumerate(["", "\r\n.", "\r\n.\r"]):
            with self.subTest(tail=tail):
                c = self.greet(st)
                self.assert_reply(c.command("MAIL FROM:<alice@sender.test>"), 250, st=st)
                self.assert_reply(c.command("RCPT TO:<bob@example.com>"), 250, st=st)
                self.assert_reply(c.command("DATA"), 354, st=st)
                c.send(message(size=5000).rstrip("\r\n") + tail)
                time.sleep(0.2)
                c.close()
                self.assertTrue(wait_until(
                    lambda: st.proxy_log().count("client disconnected mid-transaction") > n, 10), st.logs())
        # The sink must see every session end without a message; then a whole one lands alone.
        c = self.greet(st)
        self.assert_reply(self.send_message(c, st), 250, st=st)
        self.assertEqual(len(st.messages()), 1, st.logs())
        self.assertEqual(st.sink_log().count("sink stored"), 1)


class Limits(StackTest):
    """docs/design.md §2 limits, each exceeded once, each with its reply code."""

    LIMITS = {"limits": {"message_size": "10KiB", "max_recipients": 3, "max_connections_per_client": 3}}

    def test_message_size(self):
        st = self.stack(config=self.LIMITS)
        c = st.client()
        self.addCleanup(c.close)
        c.reply()
        self.assertIn("SIZE 10240", c.command("EHLO client.test").lines)
        self.assert_reply(c.command("MAIL FROM:<a@sender.test> SIZE=20000"), 552, "5.3.4", st=st)
        # Declared small, sent big: refused at the end of data, nothing stored.
        r = self.send_message(c, st, body=message(size=20000))
        self.assert_reply(r, 552, "5.3.4", st=st)
        self.assert_reply(self.send_message(c, st, body=message(size=9000)), 250, st=st)
        self.assertEqual(len(st.messages()), 1, st.logs())
        with smtplib.SMTP("127.0.0.1", st.port, timeout=10) as s:
            with self.assertRaises(smtplib.SMTPSenderRefused) as e:
                s.sendmail("a@sender.test", ["b@example.com"], message(size=20000).encode())
            self.assertEqual(e.exception.smtp_code, 552)
        self.assertEqual(len(st.messages()), 1)

    def test_max_recipients(self):
        st = self.stack(config=self.LIMITS)
        c = self.greet(st)
        self.assert_reply(c.command("MAIL FROM:<a@sender.test>"), 250, st=st)
        for i in range(3):
            self.assert_reply(c.command(f"RCPT TO:<u{i}@example.com>"), 250, st=st)
        self.assert_reply(c.command("RCPT TO:<u3@example.com>"), 452, "4.5.3", st=st)
        self.assert_reply(c.command("DATA"), 354, st=st)
        c.send(message() + ".\r\n")
        self.assert_reply(c.reply(), 250, st=st)
        self.assertEqual(len(st.messages()), 1)

    def test_command_line_too_long(self):
        st = self.stack()
        c = self.greet(st)
        self.assert_reply(c.command("NOOP " + "x" * 600), 500, "5.5.2", st=st)
        self.assert_reply(c.command("MAIL FROM:<" + "a" * 520 + "@sender.test>"), 500, "5.5.2", st=st)
        self.assert_reply(c.command("NOOP"), 250, st=st)  # the session goes on

    def test_connections_per_client(self):
        st = self.stack(config=self.LIMITS)
        held = []
        for _ in range(3):
            c = st.client()
            self.addCleanup(c.close)
            self.assert_reply(c.reply(), 220, st=st)
            held.append(c)
        extra = st.client()
        self.addCleanup(extra.close)
        self.assert_reply(extra.reply(), 421, "4.7.0", st=st)
        self.assertTrue(extra.closed_within(5))
        held[0].command("QUIT")
        held[0].close()

        def admitted():
            c = st.client()
            try:
                return c.reply().code == 220
            except (EOFError, OSError):
                return False
            finally:
                c.close()
        self.assertTrue(wait_until(admitted, 10, 0.2), st.logs())

    def test_connection_rate_per_client(self):
        """limits.connection_rate_per_client: a burst of N per minute, then 421 4.7.0 naming the limit."""
        st = self.stack(config={"limits": {"connection_rate_per_client": 3}})
        for _ in range(3):
            c = st.client()
            self.assert_reply(c.reply(), 220, st=st)
            c.command("QUIT")
            c.close()
        extra = st.client()
        self.addCleanup(extra.close)
        r = extra.reply()
        self.assert_reply(r, 421, "4.7.0", st=st)
        self.assertIn("limit 3 per minute", str(r.lines), st.logs())
        self.assertTrue(extra.closed_within(5))
        self.assertIn("over connection_rate_per_client (3 per minute from 127.0.0.1/32)", st.proxy_log())
        # A connection that was refused is not counted: one minute of 3 is 20 s.
        self.assertEqual(st.proxy_log().count("over connection_rate_per_client"), 1)

    def test_message_rate_per_client(self):
        """limits.message_rate_per_client: the MAIL over it gets 421 4.7.0 and the session ends; nothing relayed."""
        st = self.stack(config={"limits": {"message_rate_per_client": 2}})
        c = self.greet(st)
        for _ in range(2):
            self.assert_reply(self.send_message(c, st), 250, st=st)
        r = c.command("MAIL FROM:<a@sender.test>")
        self.assert_reply(r, 421, "4.7.0", st=st)
        self.assertIn("limit 2 messages per minute", str(r.lines))
        self.assertTrue(c.closed_within(5))
        self.assertEqual(len(st.messages()), 2, st.logs())
        # Per client, across sessions: a new session's MAIL is refused too.
        c2 = self.greet(st)
        self.assert_reply(c2.command("MAIL FROM:<a@sender.test>"), 421, "4.7.0", st=st)
        self.assertIn("over message_rate_per_client (2 per minute from 127.0.0.1/32)", st.proxy_log())

    def test_rate_exempt_networks(self):
        st = self.stack(config={"limits": {"connection_rate_per_client": 1, "message_rate_per_client": 1,
                                           "rate_exempt": ["127.0.0.0/8"]}})
        for _ in range(3):
            c = self.greet(st)
            for _ in range(2):
                self.assert_reply(self.send_message(c, st), 250, st=st)
            c.command("QUIT")
            c.close()
        self.assertEqual(len(st.messages()), 6, st.logs())
        self.assertNotIn("rate_per_client", st.proxy_log())

    def test_bare_lf_in_data(self):
        st = self.stack()
        c = self.greet(st)
        bodies = [
            "Subject: bare LF\r\n\r\nline one\nline two\r\n",
            "Subject: bare CR\r\n\r\nline one\rline two\r\n",
            # The smuggling shape: a bare-LF "end of data" followed by a second transaction.
            "Subject: smuggle\r\n\r\nhello\n.\nMAIL FROM:<evil@sender.test>\r\nRCPT TO:<victim@example.com>\r\n"
            "DATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n",
        ]
        for body in bodies:
            with self.subTest(body=body.split("\r\n")[0]):
                self.assert_reply(self.send_message(c, st, body=body), 554, "5.6.0", st=st)
        self.assertEqual(st.messages(), [], st.logs())
        self.assertNotIn("evil@", st.sink_log())
        self.assert_reply(self.send_message(c, st), 250, st=st)  # the session is still usable
        self.assertEqual(len(st.messages()), 1)

    def test_http_request_closes(self):
        st = self.stack()
        for request in ("GET / HTTP/1.1\r\nHost: mx.example.com\r\n\r\n", "POST /x HTTP/1.0\r\n\r\n",
                        "CONNECT example.com:25 HTTP/1.1\r\n\r\n"):
            with self.subTest(request=request.split("\r\n")[0]):
                c = st.client()
                self.addCleanup(c.close)
                self.assertEqual(c.reply().code, 220)
                c.send(request)
                self.assertTrue(c.closed_within(5), st.logs())
        self.assertEqual(st.messages(), [])


class Shutdown(StackTest):
    """SIGTERM (docs/design.md §8): stop accepting, let sessions finish up to the drain timeout, then 421."""

    def test_sigterm_when_idle_exits_zero(self):
        st = self.stack()
        st.proxy.send_signal(signal.SIGTERM)
        self.assertEqual(st.proxy.proc.wait(10), 0, st.logs())

    def test_sigterm_lets_a_transaction_finish(self):
        st = self.stack(config={"timeouts": {"shutdown_drain": "20s"}})
        c = self.greet(st)
        self.assert_reply(c.command("MAIL FROM:<alice@sender.test>"), 250, st=st)
        self.assert_reply(c.command("RCPT TO:<bob@example.com>"), 250, st=st)
        st.proxy.send_signal(signal.SIGTERM)
        wait_for_log(st.proxy, r"draining: no new connections")

        def refused():
            try:
                socket.create_connection(("127.0.0.1", st.port), timeout=1).close()
                return False
            except OSError:
                return True
        self.assertTrue(wait_until(refused, 5), "still accepting after SIGTERM")
        self.assert_reply(c.command("DATA"), 354, st=st)
        c.send(message(subject="during drain") + ".\r\n")
        self.assert_reply(c.reply(), 250, st=st)
        self.assert_reply(c.command("QUIT"), 221, st=st)
        started = time.monotonic()
        self.assertEqual(st.proxy.proc.wait(10), 0, st.logs())
        self.assertLess(time.monotonic() - started, 10)  # did not sit out the 20 s drain
        self.assertEqual(len(st.messages()), 1)

    def test_idle_session_gets_421_after_drain_timeout(self):
        st = self.stack(config={"timeouts": {"shutdown_drain": "2s"}})
        c = self.greet(st)
        signalled = time.monotonic()
        st.proxy.send_signal(signal.SIGTERM)
        self.assertEqual(c.quiet_for(1.0), b"", "421 before the drain timeout")
        r = c.reply(timeout=10)
        elapsed = time.monotonic() - signalled
        self.assert_reply(r, 421, "4.3.2", st=st)
        self.assertGreaterEqual(elapsed, 1.8)
        self.assertTrue(c.closed_within(5))
        self.assertEqual(st.proxy.proc.wait(10), 0, st.logs())


if __name__ == "__main__":
    harness.main()
