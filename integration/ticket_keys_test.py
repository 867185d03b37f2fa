"""A shared session ticket key file (docs/design.md §3, §8: instances share nothing but
config, certificates and the ticket key file) and its rotation.

Three `dsproxy run` instances with the same certificate: A and B read the
same `certificates.ticket_key_file`, C has none (a random key of its own).
`openssl s_client -starttls smtp` saves the session it got from A and offers
it to B (resumed: `Reused`) and to C (not: `New`), for TLS 1.2 and, with
`tls13_tickets: 1`, TLS 1.3. Rotation as the README describes it — a new key
in front of the file, the old ones kept, then SIGHUP: B issues tickets under
the new key and still resumes old ones; A resumes B's new tickets only once
it has reloaded too. A key file others can read is refused by a reload (the
running snapshot keeps serving). Loopback only.
"""
import os
import signal
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


class TicketKeys(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-tickets-")
        w = cls.work = cls._wd.__enter__()
        pki = harness.Pki(w / "pki")
        cert = pki.leaf("mx", dns=[harness.Stack.FQDN])
        cls.keys = w / "tickets.key"
        cls.keys.write_bytes(os.urandom(80) + os.urandom(80))
        os.chmod(cls.keys, 0o600)
        shared = {"certificates": {"ticket_key_file": str(cls.keys), "tls13_tickets": 1}}
        cls.a = harness.Stack(w / "a", pki, certs=[cert], config=shared).start()
        cls.b = harness.Stack(w / "b", pki, certs=[cert], config=shared).start()
        cls.c = harness.Stack(w / "c", pki, certs=[cert], config={"certificates": {"tls13_tickets": 1}}).start()

    @classmethod
    def tearDownClass(cls):
        for st in (cls.a, cls.b, cls.c):
            st.stop()
        cls._wd.__exit__(None, None, None)

    def handshake(self, stack, version: str, save: Path = None, offer: Path = None) -> str:
        args = [f"-{version}", "-servername", harness.Stack.FQDN]
        if save:
            # Wait for the server to close after QUIT: a TLS 1.3 ticket may
            # arrive after s_client has sent QUIT, and must be read to be saved.
            args += ["-sess_out", save, "-ign_eof", "-crlf"]
        if offer:
            args += ["-sess_in", offer]
        out = harness.s_client(stack.port, *args)
        self.assertIn("BEGIN CERTIFICATE" if not offer else "Cipher is", out, out)
        return out

    def resumed(self, stack, version: str, session: Path) -> bool:
        out = self.handshake(stack, version, offer=session)
        if "Reused, " in out:
            return True
        self.assertIn("New, ", out, out)
        return False

    def test_instances_sharing_the_key_file_resume_each_others_sessions(self):
        for version in ("tls1_2", "tls1_3"):
            with self.subTest(version=version):
                session = self.work / f"from-a-{version}.pem"
                self.handshake(self.a, version, save=session)
                self.assertTrue(session.stat().st_size > 0, "s_client saved no session")
                self.assertTrue(self.resumed(self.b, version, session), "B did not resume A's session")
                self.assertFalse(self.resumed(self.c, version, session), "C resumed without the key file")

    def test_rotation_new_key_in_front_then_reload(self):
        old = self.work / "before-rotation.pem"
        self.handshake(self.a, "tls1_2", save=old)
        current = self.keys.read_bytes()
        rotated = self.work / "tickets.new"
        rotated.write_bytes(os.urandom(80) + current[:80])  # a new key first, the newest old one kept
        os.chmod(rotated, 0o600)
        os.replace(rotated, self.keys)
        self.b.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(self.b.proxy, r"reloaded")
        # Old tickets are still accepted after the rotation.
        self.assertTrue(self.resumed(self.b, "tls1_2", old))
        # B's tickets are now under the new key: A knows it only after its own reload.
        fresh = self.work / "after-rotation.pem"
        self.handshake(self.b, "tls1_2", save=fresh)
        self.assertFalse(self.resumed(self.a, "tls1_2", fresh))
        self.a.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(self.a.proxy, r"reloaded")
        self.assertTrue(self.resumed(self.a, "tls1_2", fresh))

    def test_a_readable_key_file_is_refused(self):
        os.chmod(self.keys, 0o640)
        try:
            self.c.config["certificates"]["ticket_key_file"] = str(self.keys)
            self.c.config_path.write_text(__import__("json").dumps(self.c.config))
            self.c.proxy.send_signal(signal.SIGHUP)
            harness.wait_for_log(self.c.proxy, r"reload refused: ticket key file .* is readable by group or others")
            # The running snapshot keeps serving.
            self.handshake(self.c, "tls1_2")
        finally:
            os.chmod(self.keys, 0o600)


if __name__ == "__main__":
    harness.main()
