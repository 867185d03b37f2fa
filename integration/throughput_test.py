"""throughput_test — a rough messages-per-second figure through dsproxy on loopback.

N sessions (default 200), each: EHLO, STARTTLS, EHLO, one ~10 KiB message, QUIT, from a few
concurrent smtplib clients, through dsproxy to `dsproxy sink --no-fsync`. The figure is
printed, never asserted on (docs/design.md §9: speed is for the benchmark); what is asserted is that
every message the clients saw accepted is in the sink's Maildir.

Usage: python3 throughput_test.py PATH/TO/dsproxy [unittest arguments]
Environment: DSPROXY_IT_MESSAGES (default 200), DSPROXY_IT_CLIENTS (default 4).
"""
import os
import shutil
import smtplib
import socket
import tempfile
import threading
import time
import unittest
from pathlib import Path

import harness
from harness import Stack, client_context, message


class Smtp(smtplib.SMTP):
    """smtplib with TCP_NODELAY, so the client's own Nagle/delayed-ACK stalls (~40 ms a message on
    loopback) do not hide what the proxy costs."""

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


class Throughput(unittest.TestCase):
    def test_messages_per_second_with_starttls(self):
        total = int(os.environ.get("DSPROXY_IT_MESSAGES", "200"))
        clients = int(os.environ.get("DSPROXY_IT_CLIENTS", "4"))
        work = Path(tempfile.mkdtemp(prefix="dsproxy-rate-"))
        self.addCleanup(shutil.rmtree, work, True)
        pki = harness.Pki(work / "pki")
        mx = pki.leaf("mx.example.com", dns=["mx.example.com"])
        st = Stack(work / "stack", pki, certs=[mx], sink_args=["--no-fsync"],
                   config={"limits": {"max_connections_per_client": 50}})
        self.addCleanup(st.stop)
        st.start()
        body = message(subject="rate", size=10 * 1024).encode()
        context = client_context()
        accepted = []
        errors = []

        def worker(count):
            ok = 0
            try:
                for _ in range(count):
                    with Smtp("127.0.0.1", st.port, local_hostname="client.test", timeout=30) as s:
                        s.starttls(context=context)
                        s.sendmail("alice@sender.test", ["bob@example.com"], body)
                        ok += 1
            except Exception as e:  # reported below; the count check still runs
                errors.append(repr(e))
            accepted.append(ok)

        shares = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
        threads = [threading.Thread(target=worker, args=(n,)) for n in shares]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        elapsed = time.monotonic() - started
        self.assertFalse(any(t.is_alive() for t in threads), "clients still running after 120 s")
        done = sum(accepted)
        print(f"\n  throughput: {done} messages (STARTTLS, ~10 KiB, one per session) with {clients} concurrent "
              f"smtplib clients in {elapsed:.2f} s = {done / elapsed:.1f} messages/s", flush=True)
        self.assertEqual(errors, [], st.logs()[-5000:])
        self.assertEqual(done, total)
        self.assertEqual(len(st.messages()), done)


if __name__ == "__main__":
    harness.main()
