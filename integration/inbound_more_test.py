"""More of the inbound engine (docs/design.md §1-§3, §7): BDAT through the proxy, implicit TLS, an IPv6
listener, the greet pause (early talkers), the bad-command limit, the text-line limit, SIGHUP
reload (a good config applies to new sessions, a bad one is refused and the old keeps serving, a
certificate renewed on disk is served after it),
and the client's address towards the backend with XCLIENT and with a PROXY v2 header.

Real dsproxy and sink processes on loopback, certificates made at test time.
"""
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import relay_test  # noqa: E402
from relay_test import FakeUpstream, StackTest  # noqa: E402


def setUpModule():
    relay_test.setUpModule()


def tearDownModule():
    relay_test.tearDownModule()


class Bdat(StackTest):
    def test_bdat_chunks_are_relayed_and_stored_exactly(self):
        st = self.stack()
        c = self.greet(st)
        self.assert_reply(c.command("MAIL FROM:<a@sender.test>"), 250, st=st)
        self.assert_reply(c.command("RCPT TO:<b@example.com>"), 250, st=st)
        part1 = b"Subject: bdat\r\n\r\n.a line starting with a dot\r\n"
        part2 = b"bare words\r\nlast line\r\n"
        c.send(b"BDAT %d\r\n" % len(part1) + part1)
        self.assert_reply(c.reply(), 250, st=st)
        c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        r = c.reply()
        self.assert_reply(r, 250, st=st)
        stored = st.messages()
        self.assertEqual(len(stored), 1, st.logs())
        body = stored[0].read_bytes()
        self.assertTrue(body.endswith(part1 + part2), body[-200:])


class ImplicitTls(StackTest):
    def test_tls_from_the_first_byte(self):
        st = self.stack(config={"listeners": {"edge": {"tls": "implicit"}}})
        ctx = ssl.create_default_context(cafile=str(relay_test.PKI.ca_cert))
        with socket.create_connection(("127.0.0.1", st.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="mx.example.com") as s:
                f = s.makefile("rb")
                self.assertTrue(f.readline().startswith(b"220 "))
                s.sendall(b"EHLO c.test\r\n")
                lines = []
                while True:
                    line = f.readline()
                    lines.append(line)
                    if line[3:4] == b" ":
                        break
                self.assertNotIn(b"STARTTLS", b"".join(lines), "STARTTLS offered inside implicit TLS")
                s.sendall(b"MAIL FROM:<a@sender.test>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
                self.assertTrue(f.readline().startswith(b"250"))
                self.assertTrue(f.readline().startswith(b"250"))
                self.assertTrue(f.readline().startswith(b"354"))
                s.sendall(b"Subject: implicit\r\n\r\nhi\r\n.\r\nQUIT\r\n")
                self.assertTrue(f.readline().startswith(b"250"), st.logs())
        self.assertEqual(len(st.messages()), 1)
        self.assertIn("with ESMTPS", harness.dsproxy_received(st.message_texts()[0]))


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Ipv6(StackTest):
    @unittest.skipUnless(ipv6_loopback(), "no IPv6 loopback on this machine")
    def test_ipv6_listener(self):
        port = harness.free_port()
        st = self.stack(config={"listeners": {"edge": {"listen": [f"[::1]:{port}"]}}})
        c = harness.SmtpClient(port, host="::1")
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO c.test").code, 250)
        self.assertEqual(self.send_message(c, st).code, 250, st.logs())
        self.assertIn("connect from ::1", st.proxy_log())


class MultiAddressListener(StackTest):
    def test_one_listener_on_two_addresses_serves_both(self):
        first, second = harness.free_port(), harness.free_port()
        st = self.stack(config={"listeners": {"edge": {"listen": [f"127.0.0.1:{first}", f"127.0.0.2:{second}"]}}})
        for host, port in (("127.0.0.1", first), ("127.0.0.2", second)):
            with self.subTest(address=f"{host}:{port}"):
                harness.wait_for_port(port, host=host, proc=st.proxy.proc)
                c = harness.SmtpClient(port, host=host)
                self.addCleanup(c.close)
                self.assertEqual(c.reply().code, 220)
                self.assertEqual(c.command("EHLO c.test").code, 250)
                self.assertEqual(self.send_message(c, st).code, 250, st.logs())
        self.assertEqual(len(st.messages()), 2, st.logs())
        log = st.proxy_log()
        self.assertIn(f"listener edge (inbound) on 127.0.0.1:{first}", log)
        self.assertIn(f"listener edge (inbound) on 127.0.0.2:{second}", log)


class GreetPause(StackTest):
    def test_early_talker_gets_554_and_polite_client_is_served(self):
        st = self.stack(config={"limits": {"greeting_delay": "1s"}})
        with socket.create_connection(("127.0.0.1", st.port), timeout=10) as s:
            s.sendall(b"EHLO eager.test\r\n")  # before the banner
            data = s.recv(4096)
            self.assertTrue(data.startswith(b"554 5.5.1"), data)
        c = st.client()
        self.addCleanup(c.close)
        started = time.monotonic()
        self.assertEqual(c.reply().code, 220)
        self.assertGreaterEqual(time.monotonic() - started, 0.9)
        self.assertEqual(c.command("EHLO polite.test").code, 250)


class BadCommands(StackTest):
    def test_bad_command_limit_closes_with_421(self):
        st = self.stack(config={"limits": {"max_bad_commands": 3}})
        c = self.greet(st)
        codes = [c.command("FOO").code for _ in range(2)]
        self.assertEqual(codes, [500, 500])
        r = c.command("FOO")
        self.assertIn(r.code, (421, 500), r)
        if r.code == 500:
            r = c.reply()
        self.assertEqual(r.code, 421, r)

    def test_pipelined_batch_behind_a_refused_mail_does_not_close(self):
        # Issue 15 item 7: 100 RCPTs and a DATA pipelined behind a refused MAIL, in one write:
        # 102 replies, the session stays open (it closed with 421 after the 19th 503) and the
        # next transaction in it is delivered.
        st = self.stack()
        c = self.greet(st)
        batch = "MAIL FROM:<a@@sender.test>\r\n" + "".join(
            f"RCPT TO:<u{i}@example.com>\r\n" for i in range(100)) + "DATA\r\n"
        c.send(batch)
        codes = [c.reply().code for _ in range(102)]
        self.assertEqual(codes, [501] + [503] * 101, st.logs())
        self.assertEqual(self.send_message(c, st).code, 250, st.logs())
        self.assertEqual(len(st.messages()), 1)
        self.assertIn("not counted as errors", st.proxy_log())
        self.assertNotIn("too many bad commands", st.proxy_log())

    def test_over_long_text_line_in_data(self):
        st = self.stack()
        c = self.greet(st)
        self.assert_reply(c.command("MAIL FROM:<a@sender.test>"), 250, st=st)
        self.assert_reply(c.command("RCPT TO:<b@example.com>"), 250, st=st)
        self.assert_reply(c.command("DATA"), 354, st=st)
        c.send(b"Subject: long\r\n\r\n" + b"x" * 1200 + b"\r\n.\r\n")
        r = c.reply()
        self.assertEqual(r.code // 100, 5, r)
        self.assertEqual(st.messages(), [])

    def test_over_long_text_line_same_reply_for_data_and_bdat(self):
        # Issue 15 item 8: a 1,500-octet line was refused under DATA and relayed under BDAT.
        st = self.stack()
        replies = {}
        for command in ("DATA", "BDAT"):
            c = self.greet(st)
            self.assert_reply(c.command("MAIL FROM:<a@sender.test>"), 250, st=st)
            self.assert_reply(c.command("RCPT TO:<b@example.com>"), 250, st=st)
            content = b"Subject: long\r\n\r\n" + b"x" * 1500 + b"\r\n"
            if command == "DATA":
                self.assert_reply(c.command("DATA"), 354, st=st)
                c.send(content + b".\r\n")
            else:
                c.send(b"BDAT %d LAST\r\n" % len(content) + content)
            replies[command] = c.reply()
            self.assertEqual(c.command("NOOP").code, 250, st.logs())
        self.assertEqual(replies["DATA"].code, 552, replies)
        self.assertEqual(replies["BDAT"].lines, replies["DATA"].lines, replies)
        self.assertEqual(replies["BDAT"].code, replies["DATA"].code, replies)
        self.assertIn("message line longer than 1000 octets", replies["DATA"].text)
        self.assertEqual(st.messages(), [], st.logs())


class SignalsWhileStarting(StackTest):
    """A signal that arrives while dsproxy starts is handled once it runs, never the default
    action (which kills the process): a SIGHUP from a script racing the start, a SIGTERM from
    a service manager that changed its mind."""

    def spawn(self, st):
        st.proxy = harness.Process([harness.DSPROXY, "run", "-c", st.config_path], st.root / "dsproxy.log")
        return st.proxy

    def test_sighup_during_start_is_a_reload_not_a_kill(self):
        st = self.stack()
        st.proxy.stop()
        p = self.spawn(st)
        # From its first log line (before that it is still loading: no process can catch a
        # signal before main) until it says it started, and a little after.
        self.assertTrue(harness.wait_until(lambda: p.log() or p.proc.poll() is not None, 30, 0.001), p.log())
        started = re.compile(r"dsproxy \S+ started with")
        end = time.monotonic() + 30
        while True:  # at least once, and once more the moment "started" is seen (what a script does)
            self.assertIsNone(p.proc.poll(), "SIGHUP during start killed dsproxy:\n" + p.log())
            p.send_signal(signal.SIGHUP)
            if started.search(p.log()) or time.monotonic() > end:
                break
            time.sleep(0.001)
        p.send_signal(signal.SIGHUP)
        harness.wait_for_log(p, r"reloaded ")
        self.assertIsNone(p.proc.poll(), p.log())
        c = self.greet(st)
        self.assertEqual(self.send_message(c, st).code, 250, st.logs())

    def test_sigterm_during_start_drains_and_exits_zero(self):
        st = self.stack()
        st.proxy.stop()
        p = self.spawn(st)
        # From its first log line on: before main, no process can catch a signal.
        self.assertTrue(harness.wait_until(lambda: p.log() or p.proc.poll() is not None, 30, 0.001), p.log())
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.proc.wait(timeout=30), 0, p.log())


class Reload(StackTest):
    def test_sighup_applies_a_good_config_and_refuses_a_bad_one(self):
        st = self.stack()
        c = self.greet(st)
        self.assert_reply(c.command("MAIL FROM:<a@sender.test>"), 250, st=st)
        self.assertEqual(c.command("RCPT TO:<b@new.test>").code, 550)  # not accepted yet
        st.config["accepted_domains"] = ["example.com", "new.test"]
        st.config_path.write_text(__import__("json").dumps(st.config))
        st.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(st.proxy, r"reloaded")
        # The session in flight keeps its snapshot; a new one sees new.test.
        self.assertEqual(c.command("RCPT TO:<b@new.test>").code, 550)
        c2 = self.greet(st)
        self.assert_reply(c2.command("MAIL FROM:<a@sender.test>"), 250, st=st)
        self.assertEqual(c2.command("RCPT TO:<b@new.test>").code, 250, st.logs())
        # A broken file is refused and the running configuration stays.
        st.config_path.write_text("listeners: [this is not: valid\n")
        st.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(st.proxy, r"reload refused")
        c3 = self.greet(st)
        self.assert_reply(c3.command("MAIL FROM:<a@sender.test>"), 250, st=st)
        self.assertEqual(c3.command("RCPT TO:<b@new.test>").code, 250, st.logs())

    def test_sighup_serves_a_certificate_renewed_on_disk(self):
        # What certbot's deploy hook does: new files in place, then a reload.
        st = self.stack()
        leaf = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)

        def served():
            return leaf.search(harness.s_client(st.port, "-servername", st.FQDN)).group(0)

        def first_pem(path):
            return leaf.search(Path(path).read_text()).group(0)

        self.assertEqual(served(), first_pem(relay_test.MX[0]))
        renewed_cert, renewed_key = relay_test.PKI.leaf("mx-renewed", dns=[st.FQDN])
        name_cert, name_key = Path(relay_test.MX[0]).name, Path(relay_test.MX[1]).name
        (st.certs_dir / name_key).write_bytes(Path(renewed_key).read_bytes())
        (st.certs_dir / name_cert).write_bytes(Path(renewed_cert).read_bytes())
        self.assertEqual(served(), first_pem(relay_test.MX[0]), "served the new file before the reload")
        st.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(st.proxy, r"reloaded")
        self.assertEqual(served(), first_pem(renewed_cert), st.logs())


class UpstreamPhaseTimeouts(StackTest):
    def test_each_upstream_reply_has_its_phase_timeout(self):
        # RCPT's timeout is 1 s, the others 30 s: a backend silent after RCPT
        # gives the client a 4xx after about 1 s, not 30.
        st = self.stack(upstream_down=True, config={"timeouts": {"upstream": {
            "greeting": "30s", "ehlo": "30s", "mail": "30s", "rcpt": "1s"}}})
        fake = FakeUpstream(st.sink_port, {b"RCPT": b""})  # never answers RCPT
        fake.start()
        self.addCleanup(fake.close)
        c = self.greet(st)
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
        start = time.monotonic()
        reply = c.command("RCPT TO:<b@example.com>")
        took = time.monotonic() - start
        self.assertEqual(reply.code // 100, 4, (reply, st.logs()))
        self.assertLess(took, 10, "the RCPT waited longer than its own timeout")
        self.assertGreaterEqual(took, 0.9)
        harness.wait_for_log(st.proxy, r"reason=timeout waiting for the reply to RCPT")

    def test_an_upstream_silent_while_setting_up_is_timed_out_at_each_phase(self):
        # The connection set-up phases (greeting, EHLO, STARTTLS, the TLS
        # handshake) have 1 s each; MAIL and RCPT have 30 s. The upstream is
        # opened once the first recipient is known, so each silent peer costs
        # the client one 4xx to that RCPT after about 1 s, and the log names
        # the phase.
        st = self.stack(upstream_down=True, config={
            "timeouts": {"upstream": {"greeting": "1s", "ehlo": "1s", "tls_handshake": "1s", "mail": "30s",
                                      "rcpt": "30s"}},
            "upstreams": {"backend": {"tls": {"level": "encrypt"}}}})
        with_starttls = b"250-fake.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
        cases = [
            ("greeting", dict(script={}, greeting=b""), r"reason=timeout waiting for the greeting"),
            ("EHLO", dict(script={b"EHLO": b""}), r"reason=timeout waiting for the reply to EHLO"),
            ("STARTTLS", dict(script={b"EHLO": with_starttls, b"STARTTLS": b""}),
             r"reason=timeout waiting for the reply to STARTTLS"),
            ("TLS handshake", dict(script={b"EHLO": with_starttls, b"STARTTLS": b"220 2.0.0 go ahead\r\n"},
                                   silent_after=b"STARTTLS"), r"result=failed reason=handshake failed: timeout"),
        ]
        for phase, fake_args, logged in cases:
            with self.subTest(phase=phase):
                fake = FakeUpstream(st.sink_port, **fake_args)
                fake.start()
                try:
                    c = self.greet(st)
                    start = time.monotonic()
                    self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
                    reply = c.command("RCPT TO:<b@example.com>")
                    took = time.monotonic() - start
                    self.assertEqual(reply.code // 100, 4, (reply, st.logs()))
                    self.assertGreaterEqual(took, 0.9, "answered before the phase's timeout")
                    self.assertLess(took, 10, "waited for RCPT's 30 s, not the phase's 1 s")
                    harness.wait_for_log(st.proxy, logged)
                    self.assertNotIn(b"MAIL FROM", fake.received, "MAIL went to a peer that was not set up")
                    c.close()
                finally:
                    fake.close()


class UpstreamReplyLimits(StackTest):
    LONG_BANNER = b"220 fake.test " + b"x" * 700 + b"\r\n"  # 717 octets: over RFC 5321's 512

    # An EHLO reply of 150 lines: over the default of 100.
    LONG_EHLO = b"".join(b"250-X-EXTENSION-%d\r\n" % i for i in range(149)) + b"250 PIPELINING\r\n"

    def rcpt_reply(self, config, greeting=LONG_BANNER, script=None):
        st = self.stack(upstream_down=True, config=config)
        fake = FakeUpstream(st.sink_port, script or {}, greeting=greeting)
        fake.start()
        self.addCleanup(fake.close)
        c = self.greet(st)
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
        return st, c.command("RCPT TO:<b@example.com>")

    def test_a_reply_line_over_reply_line_length_fails_the_upstream(self):
        st, reply = self.rcpt_reply({})
        self.assertEqual(reply.code // 100, 4, (reply, st.logs()))
        harness.wait_for_log(st.proxy, r"reason=.*reply line too long")

    def test_reply_line_length_from_the_configuration_admits_it(self):
        st, reply = self.rcpt_reply({"limits": {"reply_line_length": 1024}})
        self.assertEqual(reply.code, 250, (reply, st.logs()))

    def test_a_reply_over_reply_lines_fails_the_upstream(self):
        st, reply = self.rcpt_reply({}, greeting=b"220 fake.test\r\n", script={b"EHLO": self.LONG_EHLO})
        self.assertEqual(reply.code // 100, 4, (reply, st.logs()))
        harness.wait_for_log(st.proxy, r"reason=.*too many reply lines")

    def test_reply_lines_from_the_configuration_admits_it(self):
        st, reply = self.rcpt_reply({"limits": {"reply_lines": 200}}, greeting=b"220 fake.test\r\n",
                                    script={b"EHLO": self.LONG_EHLO})
        self.assertEqual(reply.code, 250, (reply, st.logs()))


class UpstreamDiesMidMessage(StackTest):
    def test_a_backend_closing_in_the_middle_of_the_body_never_yields_a_250(self):
        # The backend takes 64 KiB of a 4 MiB message and drops the connection.
        # The client must not be told the message was accepted: a 4xx (at the
        # dot, or a 421 and a closed connection) leaves the message with it.
        st = self.stack(upstream_down=True)
        fake = FakeUpstream(st.sink_port, {b"DATA": b"354 go ahead\r\n"}, hangup_after=(b"DATA", 64 * 1024))
        fake.start()
        self.addCleanup(fake.close)
        c = self.greet(st)
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
        self.assertEqual(c.command("RCPT TO:<b@example.com>").code, 250)
        self.assertEqual(c.command("DATA").code, 354)
        body = "Subject: cut short\r\n\r\n" + ("x" * 998 + "\r\n") * 4200
        try:
            c.send(body + ".\r\n")
            reply = c.reply()
        except OSError as e:  # dsproxy may close after its 421: that is a refusal too
            reply = None
            self.assertTrue(fake.hung_up.is_set(), e)
        self.assertTrue(fake.hung_up.wait(10), "the fake backend never saw 64 KiB of body")
        if reply is not None:
            self.assertEqual(reply.code // 100, 4, (reply, st.logs()))
        harness.wait_for_log(st.proxy, r"txn from=<a@sender\.test> to=<b@example\.com> .*result=\"failed: ")
        self.assertNotRegex(st.proxy_log(), r"txn from=<a@sender\.test>.* result=\"250", st.logs())


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field}")


class BoundedMemory(StackTest):
    def test_a_48_mib_message_streams_through_in_bounded_memory(self):
        # docs/design.md §2: streamed, not buffered whole. VmHWM is the process's peak RSS.
        st = self.stack(config={"limits": {"message_size": "100MiB"}})
        c = self.greet(st)
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
        self.assertEqual(c.command("RCPT TO:<b@example.com>").code, 250)
        self.assertEqual(c.command("DATA").code, 354)
        pid = st.proxy.proc.pid
        before = status_kib(pid, "VmRSS")
        line = b"y" * 998 + b"\r\n"
        block = b"Subject: big\r\n\r\n" + line * 1023
        for _ in range(48):  # 48 blocks of 1 MiB
            c.send(block)
            block = line * 1024
        reply = c.command(".", timeout=60)
        self.assertEqual(reply.code, 250, (reply, st.logs()))
        peak = status_kib(pid, "VmHWM")
        stored = max(st.messages(), key=lambda p: p.stat().st_size)
        self.assertGreater(stored.stat().st_size, 48 * 1023 * 1000)
        growth = peak - before
        print(f"48 MiB message: dsproxy RSS {before} KiB before, peak {peak} KiB (+{growth} KiB)")
        if "ASAN_OPTIONS" not in os.environ:  # ASan's quarantine keeps freed memory resident
            self.assertLess(growth, 16 * 1024, "dsproxy's memory grew with the message")


class JsonLogs(StackTest):
    def test_every_line_is_one_json_object_with_the_session_id(self):
        st = self.stack(config={"logging": {"format": "json"}})
        r = relay_test.swaks(st.port, "-tls", "--from", "alice@sender.test", "--to", "bob@example.com",
                             "--ehlo", "client.test")
        self.assertEqual(r.final_dot_reply()[0], 250, r)
        # A peer's text cannot break a line or forge a member.
        c = self.greet(st, ehlo='evil.test","level":"critical')
        self.assertEqual(c.command('NOOP "\x01\x1b[2J\\').code, 500)  # control bytes: refused and logged
        self.assertEqual(c.command('MAIL FROM:<"x\\"y"@sender.test>').code, 250)
        self.assertEqual(c.command("RCPT TO:<nobody@other.test>").code, 550)
        c.close()
        harness.wait_for_log(st.proxy, r"relay denied|other\.test")
        # Both sessions over (their last line written), so no line is read half-written.
        self.assertTrue(harness.wait_until(lambda: st.proxy_log().count("disconnect duration_ms=") >= 2, 10),
                        st.logs())
        lines = [line for line in st.proxy_log().splitlines() if line.strip()]
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except ValueError:
                self.fail(f"not a JSON line: {line!r}")
        self.assertTrue(all(set(r) <= {"time", "level", "sid", "msg"} for r in records), records)
        self.assertTrue(all(r["level"] in ("info", "warning", "error") for r in records), records)
        txn = [r for r in records if r["msg"].startswith("txn ")]
        self.assertEqual(len(txn), 1, records)
        self.assertRegex(txn[0]["sid"], r"^[0-9a-f]{12}$")
        self.assertIn('result="250 ', txn[0]["msg"])
        tls = [r for r in records if r["msg"].startswith("tls=in result=ok")]
        self.assertEqual([r["sid"] for r in tls], [txn[0]["sid"]])
        # Every line of a session carries its id; lines without one are the process's own.
        sessions = {r["sid"] for r in records if "sid" in r}
        self.assertEqual(len(sessions), 2, records)
        self.assertFalse([r for r in records if "sid" not in r and r["msg"].startswith(("connect from", "txn"))])


class ProxyV2Upstream(FakeUpstream):
    """A backend with `smtpd_upstream_proxy_protocol`: reads the PROXY v2 header first (whose
    bytes contain CRLFs, so it must not be split into lines), then talks SMTP like FakeUpstream."""

    def run(self):
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)

            def exactly(n):
                data = b""
                while len(data) < n:
                    chunk = conn.recv(n - len(data))
                    if not chunk:
                        raise OSError("closed")
                    data += chunk
                return data
            try:
                head = exactly(16)
                self.header = head + exactly(struct.unpack("!H", head[14:16])[0])
                conn.sendall(b"220 fake.test ESMTP\r\n")
                buffer = b""
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    self.received += data
                    buffer += data
                    while b"\r\n" in buffer:
                        line, _, buffer = buffer.partition(b"\r\n")
                        conn.sendall(b"250 fake.test\r\n" if line.upper().startswith(b"EHLO") else b"250 ok\r\n")
            except OSError:
                return


def parse_tlvs(data: bytes, offset: int) -> dict:
    """PROXY v2 TLVs (type, 16-bit length, value) from `offset` on: {type: value}."""
    out = {}
    while offset + 3 <= len(data):
        kind, length = data[offset], struct.unpack("!H", data[offset + 1:offset + 3])[0]
        out[kind] = data[offset + 3:offset + 3 + length]
        offset += 3 + length
    return out


def client_from(port: int, source: str):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def converse(s, lines):
    f = s.makefile("rb")
    f.readline()
    replies = []
    for line in lines:
        s.sendall(line)
        while True:
            r = f.readline()
            if r[3:4] != b"-":
                replies.append(r)
                break
    return replies


class ClientAddressUpstream(StackTest):
    def test_xclient_passes_the_client_address(self):
        st = self.stack(upstream_down=True, config={"upstreams": {"backend": {"xclient": True}}})
        fake = FakeUpstream(st.sink_port, {
            b"EHLO": b"250-fake.test\r\n250 XCLIENT ADDR NAME HELO PROTO\r\n",
            b"XCLIENT": b"220 fake.test ready\r\n",
        })
        fake.start()
        self.addCleanup(fake.close)
        with client_from(st.port, "127.0.0.9") as s:
            replies = converse(s, [b"EHLO c.test\r\n", b"MAIL FROM:<a@sender.test>\r\n", b"RCPT TO:<b@example.com>\r\n"])
        self.assertTrue(replies[-1].startswith(b"250"), (replies, st.logs()))
        fake.join(5)
        self.assertRegex(fake.received, rb"XCLIENT ADDR=127\.0\.0\.9 NAME=\[UNAVAILABLE\] HELO=c\.test PROTO=ESMTP\r\n")
        after = fake.received.split(b"XCLIENT", 1)[1]
        self.assertIn(b"EHLO", after, "no new EHLO after XCLIENT's 220")

    def proxy_v2_backend(self):
        """dsproxy with `proxy_protocol: true` towards a backend that records the header."""
        st = self.stack(upstream_down=True, config={"upstreams": {"backend": {"proxy_protocol": True}}})
        fake = ProxyV2Upstream(st.sink_port, {})
        fake.header = b""
        fake.start()
        self.addCleanup(fake.close)
        return st, fake

    def test_proxy_v2_header_carries_the_client_address(self):
        st, fake = self.proxy_v2_backend()
        with client_from(st.port, "127.0.0.9") as s:
            replies = converse(s, [b"EHLO c.test\r\n", b"MAIL FROM:<a@sender.test>\r\n", b"RCPT TO:<b@example.com>\r\n"])
        self.assertTrue(replies[-1].startswith(b"250"), (replies, st.logs()))
        fake.join(5)
        got = fake.header
        self.assertTrue(got.startswith(b"\r\n\r\n\x00\r\nQUIT\n\x21\x11"), got[:20])
        self.assertGreaterEqual(len(got), 16 + 12)
        self.assertEqual(socket.inet_ntoa(got[16:20]), "127.0.0.9")
        self.assertTrue(fake.received.startswith(b"EHLO"), fake.received[:40])

    def test_proxy_v2_header_carries_the_tls_facts_of_the_client_leg(self):
        # PP2_TYPE_SSL with a verified client certificate (verify = 0), its CN,
        # the version and cipher, and the SNI as PP2_TYPE_AUTHORITY.
        st, fake = self.proxy_v2_backend()
        cert, key = relay_test.PKI.leaf("mta.client.test", dns=["mta.client.test"], cn="mta.client.test")
        c = st.client()
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        self.assertEqual(c.command("STARTTLS").code, 220)
        c.starttls(harness.client_context(cert=cert, key=key), server_hostname=st.FQDN)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
        self.assertEqual(c.command("RCPT TO:<b@example.com>").code, 250, st.logs())
        c.close()
        fake.join(5)
        got = fake.header
        tlvs = parse_tlvs(got, 16 + 12)  # after the fixed header and the IPv4 addresses
        self.assertEqual(tlvs.get(0x02), st.FQDN.encode(), tlvs)  # PP2_TYPE_AUTHORITY
        ssl_tlv = tlvs[0x20]
        self.assertEqual(ssl_tlv[0] & 0x07, 0x07, ssl_tlv[:5])  # SSL, CERT_CONN, CERT_SESS
        self.assertEqual(struct.unpack("!I", ssl_tlv[1:5])[0], 0, "verify must be 0 for a verified certificate")
        subs = parse_tlvs(ssl_tlv, 5)  # after the client byte and verify
        self.assertEqual(subs.get(0x21), b"TLSv1.3", subs)  # PP2_SUBTYPE_SSL_VERSION
        self.assertTrue(subs.get(0x23), subs)               # PP2_SUBTYPE_SSL_CIPHER
        self.assertEqual(subs.get(0x22), b"mta.client.test", subs)  # PP2_SUBTYPE_SSL_CN


if __name__ == "__main__":
    harness.main()
