"""Privileges of `dsproxy run` (issue 8): bind as root, then run as `process.user`.

Started as root with `process: {user: nobody}`, dsproxy must bind its
listener, create its first self-signed certificate (and give it to nobody),
switch for good — /proc/PID/status shows every uid and gid as nobody's and
no supplementary group — relay a message over STARTTLS, reload on SIGHUP as
nobody (the certificate still served) and drain on SIGTERM with exit 0.
Refused with a clear message and exit 1: root without `user` or
`allow_root`, a `user` that does not exist, and a key the new account could
not read at the next reload. `--allow-root` keeps root (with a warning); an
unprivileged start (setpriv) ignores a `user` naming someone else, with a
warning. Needs root to run (skipped otherwise); loopback only.
"""
import os
import pwd
import re
import shutil
import signal
import smtplib
import ssl
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402



def status_ids(pid: int) -> dict:
    """Uid, Gid (real, effective, saved, filesystem) and Groups of a process, from /proc."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("Uid", "Gid", "Groups"):
            out[key] = [int(v) for v in value.split()]
    return out


@unittest.skipUnless(os.geteuid() == 0, "needs root: it tests the switch away from root")
class Privileges(unittest.TestCase):
    def setUp(self):
        self._wd = harness.workdir("dsproxy-priv-")
        self.work = self._wd.__enter__()
        os.chmod(self.work, 0o755)  # nobody must reach its configuration and certificates
        self.nobody = pwd.getpwnam("nobody")
        self.sink_port = harness.free_port()
        self.maildir = self.work / "maildir"
        self.sink = harness.Process([harness.DSPROXY, "sink", "--listen", f"127.0.0.1:{self.sink_port}", "--maildir",
                                     self.maildir, "--no-fsync", "--fqdn", "sink.test"], self.work / "sink.log")
        harness.wait_for_port(self.sink_port, proc=self.sink.proc)
        self.port = harness.free_port()
        self.procs = [self.sink]

    def tearDown(self):
        for p in self.procs:
            p.stop()
        self._wd.__exit__(None, None, None)

    def write_config(self, process: str, name="dsproxy.yaml") -> Path:
        path = self.work / name
        path.write_text(f"""
process: {process}
listeners:
  edge:
    role: inbound
    listen: ["127.0.0.1:{self.port}"]
    fqdn: mx.example.org
    upstream: sink
upstreams:
  sink:
    hosts: ["127.0.0.1:{self.sink_port}"]
    tls: {{level: none}}
accepted_domains: [example.org]
certificates:
  directories: [certs]
  auto_selfsigned: true
timeouts: {{shutdown_drain: 5s}}
""")
        os.chmod(path, 0o644)
        return path

    def start(self, config: Path, *extra, prefix=()) -> harness.Process:
        p = harness.Process([*prefix, harness.DSPROXY, "run", "-c", config, *extra], self.work / "dsproxy.log")
        self.procs.insert(0, p)
        return p

    def refused(self, config: Path, *extra) -> str:
        p = self.start(config, *extra)
        self.assertEqual(p.proc.wait(15), 1, p.log())
        with self.assertRaises(OSError):
            harness.SmtpClient(self.port, timeout=2)
        return p.log()

    def send(self) -> int:
        before = len(harness.maildir_messages(self.maildir))
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            smtp.starttls(context=harness.client_context())
            smtp.sendmail("a@example.net", ["b@example.org"], "Subject: as nobody\r\n\r\nhello\r\n")
        self.assertTrue(harness.wait_until(lambda: len(harness.maildir_messages(self.maildir)) > before, 10))
        return len(harness.maildir_messages(self.maildir))

    def served_subject(self) -> str:
        out = harness.s_client(self.port, "-servername", "mx.example.org")
        self.assertIn("BEGIN CERTIFICATE", out, out)
        return harness.peer_subject_cn(out)

    def test_root_binds_then_runs_as_nobody_reloads_and_drains(self):
        p = self.start(self.write_config("{user: nobody}"))
        harness.wait_for_log(p, r"dsproxy \S+ started with")
        harness.wait_for_log(p, r"running as user nobody group nogroup")
        ids = status_ids(p.proc.pid)
        self.assertEqual(ids["Uid"], [self.nobody.pw_uid] * 4, ids)
        self.assertEqual(ids["Gid"], [self.nobody.pw_gid] * 4, ids)
        self.assertNotIn(0, ids["Groups"], ids)  # root's supplementary groups are gone
        # The certificate made at first start (as root) was given to nobody.
        key = self.work / "certs" / "mx.example.org.key"
        self.assertEqual(key.stat().st_uid, self.nobody.pw_uid)
        self.assertEqual(key.stat().st_mode & 0o777, 0o600)
        self.send()
        # A reload runs as nobody: the configuration and the key are read again.
        p.send_signal(signal.SIGHUP)
        harness.wait_for_log(p, r"reloaded")
        self.assertNotIn("certificate refused", p.log())
        self.assertEqual(self.served_subject(), "mx.example.org")
        self.send()
        self.assertEqual(p.stop(), 0, p.log())
        self.assertIn("all sessions closed; exiting", p.log())

    def test_root_without_user_is_refused(self):
        log = self.refused(self.write_config("{io_threads: 1}"))
        self.assertIn("refusing to run as root: set process.user", log)
        self.assertFalse((self.work / "certs").exists(), "refused, but wrote a certificate first")

    def test_allow_root_keeps_root_with_a_warning(self):
        p = self.start(self.write_config("{io_threads: 1}"), "--allow-root")
        harness.wait_for_log(p, r"dsproxy \S+ started with")
        self.assertIn("warning running as root", p.log())
        self.assertEqual(status_ids(p.proc.pid)["Uid"], [0, 0, 0, 0])
        self.send()
        self.assertEqual(p.stop(), 0, p.log())

    def test_unknown_user_is_refused(self):
        log = self.refused(self.write_config("{user: no-such-user-dsproxy}"))
        self.assertIn("process.user: user `no-such-user-dsproxy` does not exist", log)

    def test_a_key_the_new_account_cannot_read_is_refused_at_start(self):
        cert, key = harness.Pki(self.work / "pki").leaf("mx", dns=["mx.example.org"])
        certs = self.work / "certs"
        certs.mkdir()
        shutil.copy(cert, certs / "mx.pem")
        shutil.copy(key, certs / "mx.key")
        os.chmod(certs / "mx.key", 0o600)  # root's: dsproxy reads it now, nobody could not at a reload
        log = self.refused(self.write_config("{user: nobody}"))
        self.assertRegex(log, r"cannot start: as user nobody: cannot read \S+/certs/mx\.key; a reload would fail")
        # Given to nobody, the same key is fine.
        os.chown(certs / "mx.key", self.nobody.pw_uid, self.nobody.pw_gid)
        p = self.start(self.write_config("{user: nobody}"))
        harness.wait_for_log(p, r"running as user nobody")
        self.assertEqual(self.served_subject(), "mx.example.org")
        self.assertEqual(p.stop(), 0, p.log())

    def test_unprivileged_start_ignores_another_user(self):
        certs = self.work / "certs"
        certs.mkdir()
        os.chown(certs, self.nobody.pw_uid, self.nobody.pw_gid)  # nobody creates its certificate here
        setpriv = shutil.which("setpriv")
        if not setpriv:
            self.skipTest("setpriv (util-linux) is not installed")
        p = self.start(self.write_config("{user: root}"),
                       prefix=[setpriv, f"--reuid={self.nobody.pw_uid}", f"--regid={self.nobody.pw_gid}",
                               "--clear-groups"])
        harness.wait_for_log(p, r"dsproxy \S+ started with")
        self.assertRegex(p.log(), r"process\.user root is ignored: dsproxy was not started as root \(it runs as uid "
                                  + str(self.nobody.pw_uid) + r"\)")
        self.assertEqual(status_ids(p.proc.pid)["Uid"], [self.nobody.pw_uid] * 4)
        self.send()
        self.assertEqual(p.stop(), 0, p.log())


if __name__ == "__main__":
    harness.main()
