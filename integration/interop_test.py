"""Interop defects found with MTAs other than Postfix (issue 15), over the wire.

dsproxy runs as a real process; the next hop is a small scripted SMTP server
in this file (a Python socket server that reads DATA to its end and answers
with the extensions and the final reply a test asks for: a multi-line 250
with the queue id on its last line, as several MTAs send; EHLO with or
without DSN) or `dsproxy sink`; the sending side is Python's smtplib.
Certificates are made at test time. Only loopback addresses are used.

- item 3: a multi-line final reply is in the transaction log whole.
- item 4: DSN is listed to the client only when the backend lists it; a DSN
  request the next hop cannot take is said in the RCPT reply and the log,
  inbound and outbound.
- item 1: a serverAuth-only certificate where a client certificate is needed:
  check-config, the start and the session say so, and the session answers
  with the policy failure reply.
"""
import os
import shutil
import signal
import smtplib
import socket
import subprocess
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

class DsnInbound(InteropTest):
    def ehlo_lists_dsn(self, st):
        s = self.smtp(st)
        listed = s.has_extn("dsn")
        s.quit()
        return listed

    def test_dsn_listed_only_once_the_backend_listed_it(self):
        # Issue 15 item 4: DSN was always listed, whatever the backend.
        st = self.stack()  # dsproxy sink: lists DSN
        self.assertFalse(self.ehlo_lists_dsn(st), "DSN listed before the backend was seen")
        s = self.smtp(st)
        s.sendmail("a@sender.test", ["user@example.com"], message())
        s.quit()
        self.assertTrue(self.ehlo_lists_dsn(st), st.logs())

    def test_backend_without_dsn_never_listed_and_a_request_is_answered_not_dropped(self):
        st = self.stack(upstream_down=True)
        backend = self.backend(st)  # no DSN
        s = self.smtp(st)
        s.sendmail("a@sender.test", ["user@example.com"], message())
        s.quit()
        self.assertFalse(self.ehlo_lists_dsn(st))
        # A client that sends DSN parameters all the same.
        s = self.smtp(st)
        self.assertEqual(s.mail("a@sender.test", ["RET=HDRS", "ENVID=q1"])[0], 250)
        code, text = s.rcpt("user@example.com", ["NOTIFY=SUCCESS,FAILURE"])
        self.assertEqual(code, 250, st.logs())
        self.assertIn(b"DSN request not relayed: the next hop does not support DSN", text)
        self.assertEqual(s.data(message())[0], 250)
        self.assertFalse(any("NOTIFY=" in c or "RET=" in c for c in backend.commands), backend.commands)
        self.assertIn("upstream lacks DSN", st.proxy_log())


class DsnOutbound(InteropTest):
    def test_next_hop_without_dsn_is_said_in_the_rcpt_reply(self):
        # Outbound dsproxy lists DSN (the next hop is known only per recipient) and says when
        # the request cannot be honoured; it dropped the parameters silently before.
        port = harness.free_port()
        config = {
            "listeners": {"edge": {"role": "outbound", "allowed_clients": ["127.0.0.0/8"], "upstream": None}},
            "policies": {"default": {"level": "opportunistic", "route": [f"127.0.0.1:{port}"]}},
            "upstreams": None,
            "accepted_domains": None,
        }
        st = self.stack(upstream_down=True, config=config)
        st.sink_port = port
        backend = self.backend(st)
        s = self.smtp(st)
        self.assertTrue(s.has_extn("dsn"))
        self.assertEqual(s.mail("a@sender.test", ["RET=FULL"])[0], 250)
        code, text = s.rcpt("user@partner.test", ["NOTIFY=SUCCESS", "ORCPT=rfc822;user@partner.test"])
        self.assertEqual(code, 250, st.logs())
        self.assertIn(b"DSN request not relayed", text)
        self.assertEqual(s.data(message("user@partner.test"))[0], 250)
        self.assertTrue(any(c.startswith("RCPT TO:<user@partner.test>") for c in backend.commands), backend.commands)
        self.assertIn("upstream lacks DSN", st.proxy_log())

class ClientCertificateWithoutClientAuth(InteropTest):
    """Issue 15 item 1: a listener certificate with serverAuth only, used for a domain-secure
    upstream, was never presented, and the only trace was "upstream closed"."""

    def config(self):
        return {"upstreams": {"backend": {"tls": {"level": "domain-secure", "tls_domain": "sink.test"}}}}

    def server_only(self):
        return relay_test.PKI.leaf("mx-server-only", dns=["mx.example.com"], usage="serverAuth")

    def test_check_config_names_the_certificate(self):
        cert = self.server_only()
        root = relay_test.WORK / "ClientCertificateWithoutClientAuth" / "check"
        st = harness.Stack(root, relay_test.PKI, certs=[cert], config=self.config())
        r = subprocess.run([harness.DSPROXY, "check-config", "-q", "-c", st.config_path], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), "-q prints errors only")
        r = subprocess.run([harness.DSPROXY, "check-config", "-c", st.config_path], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        sha256 = harness.run(["openssl", "x509", "-in", cert[0], "-noout", "-fingerprint", "-sha256"]).stdout
        sha256 = sha256.strip().split("=", 1)[1].replace(":", "")
        self.assertIn("warning: client certificate unusable: upstream backend (level domain-secure) needs a "
                      "client certificate", r.stderr)
        self.assertIn(f"sha256={sha256}", r.stderr)
        self.assertIn("CN=mx.example.com", r.stderr)
        self.assertIn("extendedKeyUsage is serverAuth, without clientAuth", r.stderr)
        self.assertIn("client_only: true", r.stderr)

    def test_start_and_session_say_why_and_answer_with_the_policy_reply(self):
        st = self.stack(certs=[self.server_only()], config=self.config(), sink_tls=True)
        s = self.smtp(st)
        self.assertEqual(s.mail("a@sender.test")[0], 250)
        code, text = s.rcpt("user@example.com")
        self.assertEqual(code, 451, st.logs())
        self.assertIn(b"4.7.5 TLS policy of the upstream not satisfied", text)
        log = st.proxy_log()
        self.assertIn("client_certificate=unusable reason=", log)
        self.assertIn("result=policy_refused", log)
        self.assertEqual(st.messages(), [])
        self.assertIn("client certificate unusable: upstream backend (level domain-secure)", log)

    def test_a_reload_that_leaves_only_a_server_certificate_says_so(self):
        good = relay_test.PKI.leaf("mx-client-ok", dns=["mx.example.com"])  # serverAuth,clientAuth
        st = self.stack(certs=[good], config=self.config(), sink_tls=True)
        self.assertNotIn("client certificate unusable", st.proxy_log())
        for f in st.certs_dir.iterdir():
            f.unlink()
        bad_cert, bad_key = self.server_only()
        shutil.copy(bad_cert, st.certs_dir / Path(bad_cert).name)
        shutil.copy(bad_key, st.certs_dir / Path(bad_key).name)
        os.chmod(st.certs_dir / Path(bad_key).name, 0o600)
        mark = st.proxy.log_mark()
        st.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(st.proxy, r"reloaded ", since=mark)
        after = st.proxy.log()[mark:]
        self.assertIn("client certificate unusable: upstream backend (level domain-secure) needs a client "
                      "certificate", after)
        self.assertIn("extendedKeyUsage is serverAuth, without clientAuth", after)

    def test_an_outbound_partner_policy_is_named_and_refuses_with_its_reply(self):
        port = harness.free_port()
        config = {
            "listeners": {"edge": {"role": "outbound", "allowed_clients": ["127.0.0.0/8"], "upstream": None}},
            "policies": {"default": {"level": "opportunistic"},
                         "partner.test": {"level": "domain-secure", "route": [f"127.0.0.1:{port}"],
                                          "on_failure": "reject"}},
            "upstreams": None,
            "accepted_domains": None,
        }
        st = self.stack(certs=[self.server_only()], upstream_down=True, config=config)
        st.sink_port = port
        backend = self.backend(st)
        s = self.smtp(st)
        self.assertEqual(s.mail("a@sender.test")[0], 250)
        code, text = s.rcpt("user@partner.test")
        self.assertEqual(code, 550, st.logs())
        self.assertIn(b"5.7.1 TLS policy for partner.test not satisfied: no usable client certificate", text)
        self.assertIn("client_certificate=unusable reason=", st.proxy_log())
        self.assertEqual(backend.commands, [], "connected although no client certificate could be presented")
        self.assertRegex(st.proxy_log(), r"client certificate unusable: policy \S+ for listener edge "
                                         r"\(level domain-secure\) needs a client certificate")
        # dsproxy probe decides as the relay does: refused, no host connected to (it said
        # "upstream closed" before).
        r = subprocess.run([harness.DSPROXY, "probe", "partner.test", "-c", str(st.config_path), "--timeout", "10"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("client_certificate unusable ", r.stdout)
        self.assertIn("without clientAuth", r.stdout)
        self.assertIn("verdict refuse 550 5.7.1 TLS policy for partner.test not satisfied: no usable client certificate",
                      r.stdout)
        self.assertNotIn("upstream closed", r.stdout)
        self.assertEqual(backend.commands, [], "the probe connected")


if __name__ == "__main__":
    harness.main()
