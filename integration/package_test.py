"""The Debian package, installed on this machine's real root (issue 21).

    python3 package_test.py BUILD/proxy/dsproxy

Builds the .deb from the build tree the binary is in (scripts/package.sh,
nothing compiled again), checks it with lintian (no error), installs it with
`dpkg -i`, and checks what the installation made: the `dsproxy` system user,
/var/lib/dsproxy and /etc/dsproxy/certs owned by it, the configuration as
conffiles, the unit enabled but not started (no certificate yet), the unit
itself (`systemd-analyze verify` and `security --offline`: the exposure score
is printed). Then `dsproxy check-config` on the installed configuration (an
error until a certificate is in /etc/dsproxy/certs, then valid), one
message relayed through the installed binary running as the installed user
(as the unit starts it: User=dsproxy), and `dpkg --purge`, after which no
path named after dsproxy is left that was not there before, no file belongs
to the removed user, and the user and group are gone.

Safety: this changes the real system. It runs only as root, only when no
dsproxy package, user, group, /etc/dsproxy or /var/lib/dsproxy exists (else
it is skipped: exit 77), one run at a time on the machine (a lock file), and
it purges the package and kills what it started in a `finally`, whatever
failed. Without a running systemd (a container, a CI machine) nothing is
started by the package: what systemd itself would do with the unit (its
sandbox, Type=notify, ExecReload) is not exercised here; systemd_notify_test
covers the notify protocol.
"""
import fcntl
import grp
import json
import os
import pwd
import re
import signal
import subprocess
import sys
import time
import unittest
from pathlib import Path

import harness
from harness import Process, free_port, swaks, wait_for_log, wait_until

ROOT = harness.HERE.parent
SEARCHED = ["/etc", "/usr", "/lib", "/var", "/opt", "/srv"]
SKIP = 77


def sh(args, check=True, timeout=300, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    return r


# man-db's cache of formatted pages: `man dsproxy` writes one there whenever
# a page is shown, and so does `systemd-analyze verify` when it checks the
# unit's Documentation=man:... references (it runs man). Not a file of the
# package; man-db's daily job expires what no longer has a source page.
NOT_THE_PACKAGES = ("/var/cache/man/",)


def named_dsproxy() -> set:
    """Every path under SEARCHED whose name contains `dsproxy` (this file system
    only), but for man-db's page cache."""
    r = sh(["find", *SEARCHED, "-xdev", "-name", "*dsproxy*"], check=False)
    return {p for p in r.stdout.split() if not p.startswith(NOT_THE_PACKAGES)}


def package_status() -> str:
    r = sh(["dpkg-query", "-W", "-f=${db:Status-Status}", "dsproxy"], check=False)
    return r.stdout.strip() if r.returncode == 0 else "unknown"


def exists_already() -> list:
    """What would make this run unsafe: something of a dsproxy installation already there."""
    found = []
    if package_status() not in ("unknown", "not-installed"):
        found.append(f"package dsproxy ({package_status()})")
    for name, db in (("user", pwd.getpwnam), ("group", grp.getgrnam)):
        try:
            db("dsproxy")
            found.append(f"{name} dsproxy")
        except KeyError:
            pass
    found += [p for p in ("/etc/dsproxy", "/var/lib/dsproxy") if os.path.lexists(p)]
    return found


def dpkg(*args):
    """dpkg, waiting for the dpkg lock when another installation (apt-get) holds it."""
    end = time.monotonic() + 300
    while True:
        r = sh(["dpkg", *args], check=False)
        if r.returncode == 0 or "lock" not in r.stderr or time.monotonic() > end:
            return r
        time.sleep(2)


class PackageTest(unittest.TestCase):
    deb = None
    installed = False

    @classmethod
    def setUpClass(cls):
        env = dict(os.environ, DSPROXY_BUILD_DIR=str(Path(harness.DSPROXY).parent.parent), DSPROXY_PACKAGE_PREBUILT="1")
        r = sh(["bash", ROOT / "scripts" / "package.sh"], env=env, timeout=600)
        cls.deb = Path(r.stdout.strip().splitlines()[-1])

    @classmethod
    def tearDownClass(cls):
        if not cls.installed:
            return
        # The test failed half-way: purge, by force if need be, and remove
        # what the installation made (none of it existed before: main()).
        if dpkg("--purge", "dsproxy").returncode != 0:
            dpkg("--purge", "--force-all", "dsproxy")
        sh(["pkill", "-KILL", "-u", "dsproxy"], check=False)
        for name in ("userdel", "groupdel"):
            sh([name, "dsproxy"], check=False)
        sh(["rm", "-rf", "/etc/dsproxy", "/var/lib/dsproxy"], check=False)

    def test_package(self):
        self.assertTrue(self.deb.is_file(), f"package.sh's last line is not a file: {self.deb}")
        self.assertRegex(self.deb.name, r"^dsproxy_[0-9.]+_[a-z0-9]+\.deb$")

        lint = sh(["lintian", "--fail-on", "error", self.deb], check=False)
        self.assertEqual(lint.returncode, 0, "lintian reports errors:\n" + lint.stdout + lint.stderr)
        self.assertNotRegex(lint.stdout, r"(?m)^E: ", lint.stdout)

        before = named_dsproxy()
        r = dpkg("-i", self.deb)
        PackageTest.installed = True
        self.assertEqual(r.returncode, 0, f"dpkg -i failed:\n{r.stdout}{r.stderr}")
        self.assertEqual(package_status(), "installed")
        # No certificate in the template's store: enabled, not started, and said so.
        self.assertIn("enabled, not started: no certificate", r.stdout)

        self.check_installation()
        self.check_unit()
        self.check_relay_as_installed_user()

        # A certificate in the store (check_installation made it): a reinstallation (an upgrade)
        # starts the unit.
        self.assertTrue(Path("/etc/dsproxy/certs/mail.example.com.pem").is_file())
        r = dpkg("-i", self.deb)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("a certificate is in /etc/dsproxy/certs: starting dsproxy.service", r.stdout)

        uid = pwd.getpwnam("dsproxy").pw_uid
        r = dpkg("--purge", "dsproxy")
        self.assertEqual(r.returncode, 0, f"dpkg --purge failed:\n{r.stdout}{r.stderr}")
        PackageTest.installed = False
        self.assertEqual(package_status(), "unknown")
        left = sorted(named_dsproxy() - before)
        self.assertEqual(left, [], "left behind by the purge")
        owned = sh(["find", *SEARCHED, "-xdev", "-uid", uid], check=False).stdout.split()
        self.assertEqual(owned, [], f"files of the removed user (uid {uid})")
        self.assertEqual(exists_already(), [])

    def check_installation(self):
        user = pwd.getpwnam("dsproxy")
        self.assertLess(user.pw_uid, 1000, "not a system user")
        self.assertEqual(user.pw_dir, "/var/lib/dsproxy")
        self.assertEqual(user.pw_shell, "/usr/sbin/nologin")
        for d in ("/var/lib/dsproxy", "/etc/dsproxy/certs"):
            st = os.stat(d)
            self.assertEqual((st.st_uid, oct(st.st_mode & 0o777)), (user.pw_uid, "0o750"), d)
        conffiles = sh(["dpkg-query", "-W", "-f=${Conffiles}", "dsproxy"]).stdout
        for f in ("/etc/dsproxy/dsproxy.yaml", "/etc/dsproxy/domains.d/partners.yaml"):
            self.assertIn(f, conffiles)
        self.assertTrue(os.path.islink("/etc/systemd/system/multi-user.target.wants/dsproxy.service"),
                        "the unit is not enabled")
        self.assertEqual(sh(["pgrep", "-u", "dsproxy"], check=False).stdout, "", "something runs as dsproxy")
        self.assertTrue(os.access("/usr/sbin/dsproxy", os.X_OK))
        for f in ("/usr/share/man/man8/dsproxy.8.gz", "/usr/share/man/man5/dsproxy.yaml.5.gz",
                  "/usr/share/bash-completion/completions/dsproxy", "/usr/share/doc/dsproxy/configuration.md.gz"):
            self.assertTrue(os.path.isfile(f), f)
        # The installed configuration as shipped has no certificate yet: `dsproxy run` would refuse
        # its starttls listener (issue 19 item 7), and check-config says so (exit 1, also with -q).
        r = sh(["/usr/sbin/dsproxy", "check-config", "-q", "-c", "/etc/dsproxy/dsproxy.yaml"], check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("/etc/dsproxy/dsproxy.yaml: error: listener inbound: no usable certificate for "
                      "mail.example.com", r.stderr)
        # With a certificate in the store, as the template's comment tells: valid.
        sh(["/usr/sbin/dsproxy", "cert", "selfsigned", "--store", "/etc/dsproxy/certs", "--fqdn", "mail.example.com"])
        for f in Path("/etc/dsproxy/certs").iterdir():
            os.chown(f, user.pw_uid, user.pw_gid)
        r = sh(["/usr/sbin/dsproxy", "check-config", "-c", "/etc/dsproxy/dsproxy.yaml"], check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("fqdn: mail.example.com", r.stdout)

    def check_unit(self):
        unit = "/lib/systemd/system/dsproxy.service"
        r = sh(["systemd-analyze", "verify", unit], check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("dsproxy.service:", r.stdout + r.stderr, "systemd-analyze verify complains")
        r = sh(["systemd-analyze", "security", "--offline=true", "--no-pager", unit], check=False)
        m = re.search(r"Overall exposure level for dsproxy.service: ([0-9.]+) (\S+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        print(f"systemd-analyze security: exposure {m.group(1)} {m.group(2)}", file=sys.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0, r.stdout)
        text = Path(unit).read_text()
        for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID",
                     "ExecStartPre=/usr/sbin/dsproxy check-config -q -c /etc/dsproxy/dsproxy.yaml",
                     "ExecStart=/usr/sbin/dsproxy run -c /etc/dsproxy/dsproxy.yaml", "User=dsproxy",
                     "ProtectSystem=strict", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "SyslogFacility=mail"):
            self.assertIn(line + "\n", text)
        # ExecStartPre is quiet on success (the journal gets errors only).
        r = sh(["/usr/sbin/dsproxy", "check-config", "-q", "-c", "/etc/dsproxy/dsproxy.yaml"])
        self.assertEqual(r.stdout + r.stderr, "")

    def check_relay_as_installed_user(self):
        work = Path("/tmp") / f"dsproxy-package-{os.getpid()}"
        work.mkdir(mode=0o755)
        procs = []
        try:
            os.chmod(work, 0o755)
            certs = work / "certs"
            certs.mkdir()
            os.chown(certs, pwd.getpwnam("dsproxy").pw_uid, grp.getgrnam("dsproxy").gr_gid)
            port, sink_port = free_port(), free_port()
            config = {
                "listeners": {"edge": {"role": "inbound", "listen": [f"127.0.0.1:{port}"], "fqdn": "mail.example.com",
                                       "tls": "starttls", "upstream": "backend"}},
                "upstreams": {"backend": {"hosts": [f"127.0.0.1:{sink_port}"], "tls": {"level": "opportunistic"}}},
                "accepted_domains": ["example.com"],
                "certificates": {"directories": ["certs"], "auto_selfsigned": True},
                "process": {"user": "dsproxy"},
                "policies": {"default": {"level": "opportunistic"}},
            }
            (work / "dsproxy.yaml").write_text(json.dumps(config, indent=2) + "\n")
            sink = Process(["/usr/sbin/dsproxy", "sink", "--listen", f"127.0.0.1:{sink_port}", "--maildir",
                            work / "maildir"], work / "sink.log")
            procs.append(sink)
            wait_for_log(sink, r"sink listening on")
            # As the unit runs it: User=dsproxy, Group=dsproxy.
            proxy = Process(["setpriv", "--reuid=dsproxy", "--regid=dsproxy", "--init-groups", "/usr/sbin/dsproxy",
                             "run", "-c", work / "dsproxy.yaml"], work / "dsproxy.log")
            procs.append(proxy)
            wait_for_log(proxy, r"dsproxy \S+ started with")
            status = Path(f"/proc/{proxy.proc.pid}/status").read_text()
            uid = re.search(r"^Uid:\s+(\d+)", status, re.M).group(1)
            self.assertEqual(int(uid), pwd.getpwnam("dsproxy").pw_uid)
            result = swaks(port, "--from", "alice@sender.example", "--to", "postmaster@example.com", "-tls")
            self.assertRegex(result.output, r"(?m)^<~  250 2\.0\.0 Ok: queued as", result)
            self.assertTrue(wait_until(lambda: harness.maildir_messages(work / "maildir"), timeout=10))
            self.assertRegex(proxy.log(), r"txn from=<alice@sender.example> to=<postmaster@example.com>")
            self.assertEqual(os.stat(certs / "mail.example.com.key").st_uid, pwd.getpwnam("dsproxy").pw_uid)
        finally:
            for p in procs:
                p.stop(signal.SIGTERM)
            sh(["rm", "-rf", work])


def main():
    if os.geteuid() != 0:
        print("package_test: skipped: dpkg -i needs root")
        sys.exit(SKIP)
    # One run at a time on this machine: the package is installed system-wide.
    lock = open("/run/lock/dsproxy-package-test.lock", "w")
    end = time.monotonic() + 600
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > end:
                print("package_test: skipped: another run holds the lock for 10 minutes")
                sys.exit(SKIP)
            time.sleep(1)
    found = exists_already()
    if found:
        print("package_test: skipped: not touching an existing installation: " + ", ".join(found))
        sys.exit(SKIP)
    harness.main()


if __name__ == "__main__":
    main()
