"""logging.target (issue 21): what a real rsyslog and a real systemd-journald receive.

    python3 logging_test.py PATH/TO/dsproxy

The same scenario runs once per target — dsproxy starts (info), relays one
message (the session's txn line, info), reloads onto a listener that moved
(warn: a restart is needed), refuses a broken configuration at a reload
(error) — and a second dsproxy fails to start (critical). Then:

  syslog    rsyslogd (Debian's, its own configuration, foreground) listens on
            a socket in a temporary directory, and /dev/log points at it;
            every line arrives with facility mail, ident dsproxy, dsproxy's
            pid and the syslog priority of its level.
  journald  systemd-journald of the test's own, on private /run/systemd and
            /run/log; entries have PRIORITY per level, SYSLOG_FACILITY=2,
            SYSLOG_IDENTIFIER=dsproxy (read back with journalctl -D).
  stderr, connected to that journald's stream socket with $JOURNAL_STREAM
            set, as systemd does for a unit (SyslogFacility=mail): `<N>`
            prefixes give each line its priority, and no timestamp is
            written; with $JOURNAL_STREAM naming another stream (stderr
            redirected to a file), lines are plain and timestamped.

The text of each line, the level word and key=value message, is the same on
every target. The test re-executes itself in a private mount namespace
(`unshare -m`) so that /dev/log, /run/systemd and /run/log are its own: it
needs root, and is skipped (exit 77) without it.
"""
import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import harness
from harness import Process, free_port, swaks, wait_until

SKIP = 77
JOURNALD = "/lib/systemd/systemd-journald"


def sh(*args, check=True):
    return subprocess.run([str(a) for a in args], check=check, capture_output=True, text=True, timeout=60)


def normalised(text: str) -> str:
    """A line's text without what differs between two runs."""
    text = re.sub(r"sid=[0-9a-f]{12}", "sid=S", text)
    text = re.sub(r"duration_ms=\d+", "duration_ms=N", text)
    text = re.sub(r"queued as \S+?\"", 'queued as Q"', text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:P", text)
    text = re.sub(r"/\S*/(dsproxy\.yaml)", r"/DIR/\1", text)
    return text


class Scenario:
    """dsproxy in front of the sink on free ports, logging to `target`; run() plays the scenario."""

    def __init__(self, work: Path, target: str, stderr=None, env=None):
        self.work = work
        work.mkdir()
        self.port, self.sink_port = free_port(), free_port()
        self.config = {
            "logging": {"level": "info", "target": target},
            "listeners": {"edge": {"role": "inbound", "listen": [f"127.0.0.1:{self.port}"], "fqdn": "mx.example.com",
                                   "tls": "none", "upstream": "backend"}},
            "upstreams": {"backend": {"hosts": [f"127.0.0.1:{self.sink_port}"], "tls": {"level": "opportunistic"}}},
            "accepted_domains": ["example.com"],
            "policies": {"default": {"level": "opportunistic"}},
            "timeouts": {"shutdown_drain": "2s"},
            "process": {"allow_root": True},
        }
        self.path = work / "dsproxy.yaml"
        self.write()
        self.stderr, self.env = stderr, env
        self.sink = self.proxy = None

    def write(self, text=None):
        self.path.write_text(text if text is not None else json.dumps(self.config) + "\n")

    def run(self, received):
        """Plays the scenario; `received()` returns the messages the target got so far."""
        self.sink = Process([harness.DSPROXY, "sink", "--listen", f"127.0.0.1:{self.sink_port}", "--maildir",
                             self.work / "maildir"], self.work / "sink.log")
        harness.wait_for_log(self.sink, r"sink listening on")
        args = [harness.DSPROXY, "run", "-c", self.path]
        if self.stderr is None:
            self.proxy = Process(args, self.work / "dsproxy.log", env=self.env)
        else:
            self.proxy = subprocess.Popen([str(a) for a in args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=self.stderr, env=self.env)
        proc = self.proxy.proc if isinstance(self.proxy, Process) else self.proxy
        self.pid = proc.pid

        def seen(pattern):
            found = wait_until(lambda: [m for m in received() if re.search(pattern, m)], timeout=20)
            assert found, f"no line matching {pattern!r} among {received()!r}"
            return found

        seen(r"dsproxy \S+ started with")
        r = swaks(self.port, "--from", "alice@sender.example", "--to", "postmaster@example.com")
        assert "<-  250 2.0.0 Ok: queued as" in r.output, r.output
        seen(r" txn from=<alice@sender.example>")
        self.config["listeners"]["edge"]["listen"].append(f"127.0.0.1:{free_port()}")
        self.write()
        proc.send_signal(signal.SIGHUP)
        seen(r"reload: listeners\.edge\.listen changed")
        self.write("listeners: {edge: {role: inbound}\n")  # broken YAML
        proc.send_signal(signal.SIGHUP)
        seen(r"reload refused: 1 error")
        # A start that fails after the configuration is read: critical.
        broken = dict(self.config, process={"user": "no-such-user-dsproxy-test"})
        bad = self.work / "bad.yaml"
        bad.write_text(json.dumps(broken) + "\n")
        failed = subprocess.run([harness.DSPROXY, "run", "-c", str(bad)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=self.stderr or subprocess.DEVNULL, env=self.env,
                                timeout=30)
        assert failed.returncode == 1, failed.returncode
        seen(r"cannot start: process.user")

    def stop(self):
        for p in (self.proxy, self.sink):
            if isinstance(p, Process):
                p.stop()
            elif p is not None and p.poll() is None:
                p.terminate()
                p.wait(15)


# The scenario's lines: (pattern, syslog priority). All targets must show these.
EXPECTED = [
    (r"^info dsproxy \S+ started with /DIR/dsproxy\.yaml$", 6),
    (r"^info sid=S txn from=<alice@sender\.example> to=<postmaster@example\.com> .*result=\"250 2\.0\.0 Ok: queued as Q\"", 6),
    (r"^warning reload: listeners\.edge\.listen changed \(\[.*\] -> \[.*\]\); it is read at start only, "
     r"restart to apply$", 4),
    (r"^error reload refused: 1 error\(s\); the running configuration stays$", 3),
    (r"^critical cannot start: process\.user: ", 2),
]


class LoggingTargets(unittest.TestCase):
    work = None
    texts = {}

    @classmethod
    def setUpClass(cls):
        cls.work = Path(tempfile.mkdtemp(prefix="dsproxy-logging-"))
        os.chmod(cls.work, 0o755)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def check(self, name, entries):
        """entries: (text, priority, facility, identifier, pid-or-None) per line of dsproxy's."""
        texts = [normalised(e[0]) for e in entries]
        for pattern, priority in EXPECTED:
            hits = [e for e, t in zip(entries, texts) if re.search(pattern, t)]
            self.assertTrue(hits, f"{name}: no line matching {pattern!r} in {texts!r}")
            text, prio, facility, ident, _ = hits[0]
            self.assertEqual(prio, priority, f"{name}: {text!r}")
            self.assertEqual(facility, 2, f"{name}: facility of {text!r} (2 = mail)")
            self.assertEqual(ident, "dsproxy", f"{name}: {text!r}")
            LoggingTargets.texts.setdefault(pattern, {})[name] = normalised(text)

    # --- syslog through a real rsyslogd -----------------------------------------

    def test_syslog(self):
        if not shutil.which("rsyslogd"):
            self.fail("rsyslogd is not installed (scripts/install-deps.sh test installs rsyslog)")
        d = self.work / "rsyslog"
        d.mkdir()
        sock, out = d / "log.sock", d / "received.log"
        conf = d / "rsyslog.conf"
        conf.write_text(f"""
global(workDirectory="{d}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{sock}" CreatePath="on")
template(name="fields" type="string"
         string="%syslogfacility% %syslogseverity% %programname% %procid% %msg%\\n")
*.* action(type="omfile" file="{out}" template="fields")
""")
        rsyslog = Process(["rsyslogd", "-n", "-f", conf, "-i", d / "rsyslogd.pid"], d / "rsyslogd.log")
        try:
            self.assertTrue(wait_until(sock.exists, timeout=15), rsyslog.log())
            os.symlink(sock, "/dev/log")  # the overlay over /dev of this namespace

            def received():
                lines = out.read_text(errors="replace").splitlines() if out.exists() else []
                return [line.split(" ", 4)[4].strip() for line in lines if line.count(" ") >= 4]

            s = Scenario(self.work / "syslog", "syslog")
            try:
                s.run(received)
            finally:
                s.stop()
            entries = []
            for line in out.read_text(errors="replace").splitlines():
                facility, severity, program, pid, msg = line.split(" ", 4)
                if program == "dsproxy":
                    entries.append((msg.strip(), int(severity), int(facility), program, pid))
            self.check("syslog", entries)
            self.assertIn(str(s.pid), {e[4] for e in entries}, "rsyslog did not get dsproxy's pid")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink("/dev/log")
            rsyslog.stop()

    # --- the journal: native protocol, and stderr on its stream socket ----------

    def journal(self):
        return sh("journalctl", "-D", "/run/log/journal", "-o", "json", "--no-pager",
                  "SYSLOG_IDENTIFIER=dsproxy").stdout.splitlines()

    def journal_entries(self, transport):
        entries = []
        for line in self.journal():
            e = json.loads(line)
            if e.get("_TRANSPORT") == transport and isinstance(e.get("MESSAGE"), str):
                entries.append((e["MESSAGE"], int(e["PRIORITY"]), int(e.get("SYSLOG_FACILITY", -1)),
                                e["SYSLOG_IDENTIFIER"], e.get("_PID")))
        return entries

    def test_journald_and_stderr_to_the_journal(self):
        self.assertTrue(os.access(JOURNALD, os.X_OK), "systemd-journald is not installed (package systemd)")
        for d in ("/run/systemd", "/run/log"):
            os.makedirs(d, exist_ok=True)
            sh("mount", "-t", "tmpfs", "tmpfs", d)
        if os.path.isdir("/var/log/journal"):
            sh("mount", "-t", "tmpfs", "tmpfs", "/var/log/journal")  # never the machine's persistent journal
        os.makedirs("/run/systemd/journal")
        journald = Process([JOURNALD], self.work / "journald.log")
        try:
            self.assertTrue(wait_until(lambda: os.path.exists("/run/systemd/journal/stdout"), timeout=15),
                            journald.log())

            # logging.target: journald
            s = Scenario(self.work / "journald", "journald")
            try:
                s.run(lambda: [e[0] for e in self.journal_entries("journal")])
            finally:
                s.stop()
            entries = self.journal_entries("journal")
            self.check("journald", entries)
            self.assertIn(str(s.pid), {e[4] for e in entries})

            # stderr on the journal's stream socket, as systemd connects a unit's
            # stderr: identifier, unit, priority (facility mail | info), level prefix on.
            stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            stream.connect("/run/systemd/journal/stdout")
            stream.sendall(b"dsproxy\n\n%d\n1\n0\n0\n0\n" % (2 << 3 | 6))
            st = os.fstat(stream.fileno())
            env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
            s = Scenario(self.work / "stream", "stderr", stderr=stream.fileno(), env=env)
            try:
                s.run(lambda: [e[0] for e in self.journal_entries("stdout")])
            finally:
                s.stop()
                stream.close()
            entries = self.journal_entries("stdout")
            self.check("stderr to the journal", entries)
            for text, *_ in entries:
                self.assertNotRegex(text, r"^<\d>|^\d{4}-\d\d-\d\dT", "a prefix or a timestamp was left in the text")

            # $JOURNAL_STREAM inherited, but stderr is a file: plain lines with timestamps.
            s = Scenario(self.work / "file", "stderr", env=env)
            try:
                s.proxy = Process([harness.DSPROXY, "run", "-c", s.path], s.work / "dsproxy.log", env=env)
                harness.wait_for_log(s.proxy, r"dsproxy \S+ started with")
                self.assertRegex(s.proxy.log(), r"(?m)^\d{4}-\d\d-\d\dT[\d:.]+Z info dsproxy \S+ started with")
                self.assertNotIn("<6>", s.proxy.log())
            finally:
                s.stop()
        finally:
            journald.stop()

    def test_zz_the_text_is_the_same_on_every_target(self):
        # Runs last (unittest sorts by name): compares what the others recorded.
        for pattern, by_target in LoggingTargets.texts.items():
            self.assertEqual(len(set(by_target.values())), 1, f"{pattern}: {by_target}")
        self.assertEqual(set(next(iter(LoggingTargets.texts.values()), {})),
                         {"syslog", "journald", "stderr to the journal"})


def main():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("logging_test: skipped: needs root and unshare (a private mount namespace)")
        sys.exit(SKIP)
    if os.environ.get("DSPROXY_LOGGING_TEST_NS") != "1":
        # A private mount namespace: /dev/log, /run/systemd and /run/log of our own.
        env = dict(os.environ, DSPROXY_LOGGING_TEST_NS="1")
        os.execvpe("unshare", ["unshare", "-m", "--propagation", "private", sys.executable, *sys.argv], env)
    upper = Path(tempfile.mkdtemp(prefix="dsproxy-dev-"))
    (upper / "u").mkdir()
    (upper / "w").mkdir()
    sh("mount", "-t", "overlay", "overlay", "-o", f"lowerdir=/dev,upperdir={upper}/u,workdir={upper}/w", "/dev")
    atexit.register(lambda: (sh("umount", "/dev", check=False), shutil.rmtree(upper, ignore_errors=True)))
    harness.main()


if __name__ == "__main__":
    main()
