"""Several I/O threads (issue 8): `process: {io_threads: 2}`.

dsproxy with two I/O threads relays over STARTTLS to a `dsproxy sink`, driven
by Python's smtplib from many client threads at once. Checks: every message
arrives exactly once; sessions ran on both threads (each `connect from` log
line names its thread); the metrics, one registry per thread, add up to what
the clients did; a SIGHUP reload applies to new sessions on both threads
while a session in flight keeps its snapshot, and says what it cannot change
(threads, listen addresses; a renamed listener's socket answers 421);
SIGTERM with a transaction in DATA on each thread lets both finish, refuses
new connections, answers 421 to idle sessions on both threads at the drain
timeout, and exits 0.
Loopback only.
"""
import json
import re
import signal
import smtplib
import socket
import sys
import threading
import time
import unittest
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

CONNECT = re.compile(r"connect from 127\.0\.0\.1 port (\d+) listener=\S+ thread=(\d+)")


def sample(text: str, key: str) -> float:
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    return 0.0


class IoThreads(unittest.TestCase):
    def setUp(self):
        self._wd = harness.workdir("dsproxy-threads-")
        w = self.work = self._wd.__enter__()
        pki = harness.Pki(w / "pki")
        self.cert = pki.leaf("mx", dns=[harness.Stack.FQDN])
        self.metrics_port = harness.free_port()
        self.stack = harness.Stack(w / "stack", pki, certs=[self.cert], config={
            "process": {"io_threads": 2},
            "metrics": {"listen": f"127.0.0.1:{self.metrics_port}"},
            "limits": {"max_connections_per_client": 500},
            "timeouts": {"shutdown_drain": "4s"},
        })
        self.stack.start()

    def tearDown(self):
        self.stack.stop()
        self._wd.__exit__(None, None, None)

    def scrape(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as r:
            return r.read().decode()

    def scrape_when(self, predicate) -> str:
        text = ""
        end = time.monotonic() + 10
        while time.monotonic() < end:
            text = self.scrape()
            if predicate(text):
                return text
            time.sleep(0.05)
        self.fail("metrics never got there; last scrape:\n" + text)

    def threads_of(self, log: str) -> dict:
        """Client port -> I/O thread, from the `connect from` lines."""
        return {int(port): int(thread) for port, thread in CONNECT.findall(log)}

    def thread_of(self, client: harness.SmtpClient) -> int:
        port = client.sock.getsockname()[1]
        found = harness.wait_until(lambda: port in self.threads_of(self.stack.proxy_log()), 10)
        self.assertTrue(found, f"no connect line for port {port}")
        return self.threads_of(self.stack.proxy_log())[port]

    def greet(self) -> harness.SmtpClient:
        c = self.stack.client()
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.example.net").code, 250)
        return c

    def one_session_per_thread(self) -> dict:
        """Opens sessions until there is one on each thread; returns {thread: client}."""
        found, extra = {}, []
        # Held open: a thread with a few more sessions than the other stops
        # accepting, so the other thread gets one within a few connections.
        for _ in range(20):
            c = self.greet()
            thread = self.thread_of(c)
            if thread in found:
                extra.append(c)
            else:
                found[thread] = c
            if len(found) == 2:
                for c in extra:
                    self.assertEqual(c.command("QUIT").code, 221)
                    c.close()
                return found
        self.fail("20 sessions open and all of them on one thread:\n" + self.stack.proxy_log()[-3000:])

    def test_many_concurrent_sessions_on_both_threads_and_metrics_add_up(self):
        self.assertIn("2 I/O thread(s)", self.stack.proxy_log())
        clients, connections, per_connection = 16, 4, 3
        before = self.scrape()
        errors = []
        barrier = threading.Barrier(clients)

        def client(n):
            try:
                barrier.wait(10)
                for k in range(connections):
                    with smtplib.SMTP("127.0.0.1", self.stack.port, timeout=30) as smtp:
                        smtp.starttls(context=harness.client_context(ca_file=self.stack.pki.ca_cert))
                        for m in range(per_connection):
                            smtp.sendmail("a@sender.test", ["b@example.com"],
                                          harness.message(subject=f"c{n}-k{k}-m{m}", size=2000))
            except Exception as e:  # reported on the main thread
                errors.append(f"client {n}: {e!r}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [], self.stack.logs()[-4000:])
        total = clients * connections * per_connection
        subjects = [re.search(r"^Subject: (\S+)", t, re.M).group(1) for t in self.stack.message_texts()]
        self.assertEqual(len(subjects), total)
        self.assertEqual(len(set(subjects)), total, "a message arrived twice")

        per_thread = {0: 0, 1: 0}
        for thread in self.threads_of(self.stack.proxy_log()).values():
            per_thread[thread] += 1
        print(f"sessions per thread: {per_thread}", file=sys.stderr)
        self.assertEqual(sum(per_thread.values()), clients * connections)
        self.assertGreater(per_thread[0], 0, per_thread)
        self.assertGreater(per_thread[1], 0, per_thread)

        after = self.scrape_when(lambda t: sample(t, "dsproxy_connections_current") == 0)

        def moved(key):
            return sample(after, key) - sample(before, key)

        self.assertEqual(moved('dsproxy_connections_total{listener="edge"}'), clients * connections)
        self.assertEqual(moved("dsproxy_messages_relayed_total"), total)
        self.assertGreaterEqual(moved("dsproxy_message_bytes_relayed_total"), total * 2000)
        self.assertEqual(moved('dsproxy_tls_handshakes_total{leg="in",result="ok"}'), clients * connections)
        self.assertEqual(moved("dsproxy_upstream_transaction_seconds_count"), total)
        self.assertEqual(moved('dsproxy_replies_total{class="3xx"}'), total)  # one 354 per message

    def test_reload_applies_to_new_sessions_on_both_threads(self):
        old = self.greet()
        self.assertEqual(old.command("MAIL FROM:<a@sender.test>").code, 250)
        self.assertEqual(old.command("RCPT TO:<b@new.test>").code, 550)
        self.stack.config["accepted_domains"] = ["example.com", "new.test"]
        self.stack.config_path.write_text(json.dumps(self.stack.config))
        self.stack.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(self.stack.proxy, r"reloaded")
        self.assertNotIn("`process` section changed", self.stack.proxy_log())
        # The session in flight keeps the snapshot it started with.
        self.assertEqual(old.command("RCPT TO:<b@new.test>").code, 550)
        for thread, c in sorted(self.one_session_per_thread().items()):
            self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
            self.assertEqual(c.command("RCPT TO:<b@new.test>").code, 250, f"thread {thread}: reload not applied")
            self.assertEqual(c.command("QUIT").code, 221)
        self.assertEqual(old.command("QUIT").code, 221)

    def test_reload_cannot_change_what_is_read_at_start(self):
        self.stack.config["process"] = {"io_threads": 1, "allow_root": True}
        self.stack.config["listeners"]["renamed"] = self.stack.config["listeners"].pop("edge")
        self.stack.config_path.write_text(json.dumps(self.stack.config))
        self.stack.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(self.stack.proxy, r"reloaded")
        log = self.stack.proxy_log()
        self.assertRegex(log, r"reload: process\.io_threads changed \(\S+ -> 1\); it is read at start only, "
                              r"restart to apply")
        self.assertRegex(log, r"reload: listeners\.renamed\.listen is new \(\[127\.0\.0\.1:\d+\]\); it is read "
                              r"at start only, restart to apply")
        self.assertRegex(log, r"reload: listeners\.edge\.listen is gone \(was \[127\.0\.0\.1:\d+\]\)")
        # The socket bound for `edge` stays open, but `edge` is gone from the configuration.
        c = self.stack.client()
        self.addCleanup(c.close)
        r = c.reply()
        self.assertEqual((r.code, r.text[:5]), (421, "4.3.0"), r)
        self.assertTrue(harness.wait_until(lambda: "reason=listener edge was removed by a reload" in
                                           self.stack.proxy_log(), 5), self.stack.proxy_log())

    def test_sigterm_drains_both_threads(self):
        busy = self.one_session_per_thread()  # a transaction in DATA on each thread
        idle = self.one_session_per_thread()  # and a session that just waits, on each thread
        for c in busy.values():
            self.assertEqual(c.command("MAIL FROM:<a@sender.test>").code, 250)
            self.assertEqual(c.command("RCPT TO:<b@example.com>").code, 250)
            self.assertEqual(c.command("DATA").code, 354)
            c.send("Subject: drain\r\n\r\nfirst half\r\n")
        self.scrape_when(lambda t: sample(t, "dsproxy_connections_current") == 4)  # the extra ones have gone
        signalled = time.monotonic()
        self.stack.proxy.send_signal(signal.SIGTERM)
        harness.wait_for_log(self.stack.proxy, r"draining: no new connections; 4 session\(s\) may finish")

        def refused():
            try:
                socket.create_connection(("127.0.0.1", self.stack.port), timeout=1).close()
                return False
            except OSError:
                return True
        self.assertTrue(harness.wait_until(refused, 5), "still accepting after SIGTERM")
        for thread, c in busy.items():
            c.send("second half\r\n.\r\n")
            self.assertEqual(c.reply().code, 250, f"thread {thread}")
            self.assertEqual(c.command("QUIT").code, 221)
        for thread, c in idle.items():
            r = c.reply(timeout=15)
            self.assertEqual((r.code, r.text[:5]), (421, "4.3.2"), f"thread {thread}: {r}")
        self.assertGreaterEqual(time.monotonic() - signalled, 3.5)  # the idle ones had the drain timeout
        self.assertEqual(self.stack.proxy.proc.wait(15), 0, self.stack.logs())
        self.assertEqual(len(self.stack.messages()), 2)
        log = self.stack.proxy_log()
        self.assertIn("drain timeout: closing 1 session(s) of thread 0 with 421", log)
        self.assertIn("drain timeout: closing 1 session(s) of thread 1 with 421", log)


if __name__ == "__main__":
    harness.main()
