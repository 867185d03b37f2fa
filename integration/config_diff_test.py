"""check-config -n and --diff against a running dsproxy (issue 21, docs/design.md §7).

dsproxy runs with process.running_config; the file it writes is its effective
configuration. `check-config -n` prints only what the files set beyond the
defaults; after editing the file, `check-config --diff` names each setting a
reload would change and marks the one it cannot apply (a listen address);
the reload log says the same of that setting, and afterwards the running file
is the new configuration, so --diff finds nothing. Errors: --diff without a
running file, and with one that is not YAML, exit 1 with a message.
Loopback only.
"""
import json
import signal
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def check_config(*args, ok=True):
    r = subprocess.run([harness.DSPROXY, "check-config", *map(str, args)], capture_output=True, text=True,
                       timeout=30)
    if ok:
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r


class ConfigDiff(unittest.TestCase):
    def setUp(self):
        self._wd = harness.workdir("dsproxy-confdiff-")
        w = self.work = self._wd.__enter__()
        pki = harness.Pki(w / "pki")
        self.running = w / "stack" / "running.yaml"
        self.stack = harness.Stack(w / "stack", pki, certs=[pki.leaf("mx", dns=[harness.Stack.FQDN])], config={
            "process": {"allow_root": True, "running_config": str(self.running)},
            "limits": {"max_connections": 50},
        })
        self.stack.start()

    def tearDown(self):
        self.stack.stop()
        self._wd.__exit__(None, None, None)

    def test_non_default_and_diff_against_the_running_configuration(self):
        st = self.stack
        self.assertTrue(harness.wait_until(self.running.exists, 10), st.proxy_log())
        self.assertIn("\n  max_connections: 50\n", self.running.read_text())
        self.assertIn("\n  max_recipients: 100\n", self.running.read_text())  # the whole configuration

        # Only what the files set beyond the defaults (the harness sets shutdown_drain).
        nondefault = check_config("-n", "-c", st.config_path).stdout
        self.assertIn("limits:\n  max_connections: 50\ntimeouts:\n  shutdown_drain: 5s\n", nondefault)
        self.assertIn("upstream: backend", nondefault)
        self.assertNotIn("max_recipients", nondefault)
        self.assertNotIn("role:", nondefault)  # inbound is a listener's default
        self.assertNotIn("command:", nondefault)

        self.assertIn("no change against the running configuration",
                      check_config("--diff", "-c", st.config_path).stdout)

        moved = f"127.0.0.1:{harness.free_port()}"
        st.config["limits"]["max_connections"] = 80
        st.config["listeners"]["edge"]["listen"].append(moved)
        st.config_path.write_text(json.dumps(st.config))
        out = check_config("--diff", "-c", st.config_path).stdout
        self.assertIn("limits.max_connections: 50 -> 80\n", out)
        self.assertRegex(out, r"listeners\.edge\.listen: \[127\.0\.0\.1:\d+\] -> \[127\.0\.0\.1:\d+, "
                              + moved.replace(".", r"\.") + r"\]  \[read at start only: restart to apply\]")
        self.assertIn("2 changes against", out)
        self.assertIn("a reload applies 1, 1 need a restart", out)

        mark = st.proxy.log_mark()
        st.proxy.send_signal(signal.SIGHUP)
        harness.wait_for_log(st.proxy, r"reloaded ", since=mark)
        self.assertRegex(st.proxy_log(), r"reload: listeners\.edge\.listen changed \(.*\); it is read at start only, "
                                         r"restart to apply")
        self.assertNotIn("reload: limits.", st.proxy_log())
        self.assertTrue(harness.wait_until(
            lambda: "\n  max_connections: 80\n" in self.running.read_text(), 10))
        self.assertIn("no change against the running configuration",
                      check_config("--diff", "-c", st.config_path).stdout)

    def test_diff_errors(self):
        st = self.stack
        r = check_config("--diff", "-c", st.config_path, "--running", self.work / "nope.yaml", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot read the running configuration", r.stderr)
        bad = self.work / "bad.yaml"
        bad.write_text("listeners: [unclosed\n")
        r = check_config("--diff", "-c", st.config_path, "--running", bad, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a configuration", r.stderr)
        del st.config["process"]["running_config"]
        st.config_path.write_text(json.dumps(st.config))
        r = check_config("--diff", "-c", st.config_path, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("set process.running_config", r.stderr)


if __name__ == "__main__":
    harness.main()
