"""Interop defects found with MTAs other than Postfix (issue 15), over the wire.

dsproxy runs as a real process; the next hop is a small scripted SMTP server
in this file (a Python socket server that reads DATA to its end and answers
with the extensions and the final reply a test asks for: a multi-line 250
with the queue id on its last line, as several MTAs send; EHLO with or
without DSN) or `dsproxy sink`; the sending side is Python's smtplib.
Certificates are made at test time. Only loopback addresses are used.

- item 3: a multi-line final reply is in the transaction log whole.
"""
import smtplib
import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import relay_test  # noqa: E402
from relay_test import StackTest  # noqa: E402


def setUpModule():
    relay_test.setUpModule()


def tearDownModule():
    relay_test.tearDownModule()


class Backend(threading.Thread):
    """A scripted SMTP server on `port`, any number of connections one after another. `extensions`:
    the EHLO keywords after the name; `final`: the bytes answering the end of data. Records every
    command line (not the message content) in `commands`."""

    def __init__(self, port: int, extensions=("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"),
                 final=b"250 2.0.0 Ok\r\n"):
        super().__init__(daemon=True)
        self.extensions, self.final = list(extensions), final
        self.commands = []
        self.server = socket.create_server(("127.0.0.1", port))
        self.server.settimeout(30)
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                try:
                    self.serve(conn)
                except OSError:
                    pass

    def serve(self, conn):
        conn.settimeout(15)
        f = conn.makefile("rb")
        conn.sendall(b"220 backend.test ESMTP\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            text = line.rstrip(b"\r\n")
            self.commands.append(text.decode("ascii", "replace"))
            verb = text[:4].upper()
            if verb == b"EHLO":
                lines = ["backend.test", *self.extensions]
                conn.sendall(b"".join(f"250{'-' if i + 1 < len(lines) else ' '}{l}\r\n".encode()
                                      for i, l in enumerate(lines)))
            elif verb == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                while f.readline() not in (b".\r\n", b""):
                    pass
                conn.sendall(self.final)
            elif verb == b"QUIT":
                conn.sendall(b"221 2.0.0 bye\r\n")
                return
            elif verb in (b"MAIL", b"RSET", b"NOOP"):
                conn.sendall(b"250 2.1.0 Ok\r\n" if verb == b"MAIL" else b"250 2.0.0 Ok\r\n")
            elif verb == b"RCPT":
                conn.sendall(b"250 2.1.5 Ok\r\n")
            else:
                conn.sendall(b"502 5.5.1 not here\r\n")

    def close(self):
        self.stopping = True
        try:
            self.server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.server.close()
        self.join(5)


def message(to="user@example.com"):
    return (f"From: a@sender.test\r\nTo: {to}\r\nSubject: interop\r\n\r\nhello\r\n").encode()


class InteropTest(StackTest):
    def backend(self, st, **kw):
        b = Backend(st.sink_port, **kw)
        b.start()
        self.addCleanup(b.close)
        return b

    def smtp(self, st):
        s = smtplib.SMTP("127.0.0.1", st.port, timeout=15)
        self.addCleanup(s.close)
        s.ehlo("client.test")
        return s


class MultiLineFinalReply(InteropTest):
    def test_every_line_of_the_final_reply_is_in_the_transaction_log(self):
        # Issue 15 item 3: the queue id on the second line was lost from result=.
        st = self.stack(upstream_down=True)
        self.backend(st, final=b"250-2.0.0 Ok: queued\r\n250 2.0.0 as 4F1A2B3C\r\n")
        s = self.smtp(st)
        s.sendmail("a@sender.test", ["user@example.com"], message())
        line = harness.wait_until(
            lambda: next((l for l in st.proxy_log().splitlines() if " txn from=" in l), None), 10)
        self.assertIsNotNone(line, st.logs())
        self.assertIn('result="250-2.0.0 Ok: queued | 250 2.0.0 as 4F1A2B3C"', line)


if __name__ == "__main__":
    harness.main()
