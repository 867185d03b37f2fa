"""bench_smoke_test — the benchmark's load generator through dsproxy, for a few seconds.

Not a timing test (docs/design.md §9: speed is for bench/run_bench.py): it checks that the generator and
the benchmark's own configuration of dsproxy and the sink (bench/bench_targets.py) still work,
and that dsproxy completes every session of each workload the benchmark uses: STARTTLS with a
10 KiB message, pipelined, with an RSA-only client, a 1 MiB message, and idle TLS sessions held
and then ended with QUIT. Every reply code is checked by the generator; zero failures expected.
The DANE case (bench/run_dane.py, with knotd) runs one short round.

Usage: python3 bench_smoke_test.py PATH/TO/dsproxy PATH/TO/smtp_load
"""
import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import bench_targets as bt  # noqa: E402

DSPROXY, LOAD = None, None


class BenchSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Path(tempfile.mkdtemp(prefix="dsproxy-bench-smoke-"))
        cls.pki = bt.Pki(cls.work / "pki")
        cls.sink = bt.Sink(DSPROXY, cls.work, "plain")
        cls.proxy = bt.Dsproxy(DSPROXY, cls.work, cls.pki, cls.sink.port)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.process.stop()
        cls.sink.process.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def load(self, *extra, stdin=None):
        p = subprocess.run([LOAD, "--connect", f"127.0.0.1:{self.proxy.port}", "--timeout", "30", *map(str, extra)],
                           capture_output=True, text=True, timeout=120, input=stdin)
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        self.assertTrue(lines, p.stdout + p.stderr)
        result = json.loads(lines[-1])
        self.assertEqual(result["failures"], {}, self.proxy.process.log_path.read_text()[-3000:])
        self.assertEqual(p.returncode, 0)
        return result

    def test_starttls_sessions_all_complete(self):
        r = self.load("--sessions", 60, "--concurrency", 6, "--threads", 2)
        self.assertEqual(r["ok"], 60)
        self.assertEqual(r["tickets"], 0)  # dsproxy sends no TLS 1.3 tickets by default
        self.assertEqual(r["message_bytes"], 60 * 10240)

    def test_pipelined_and_rsa_only_clients(self):
        self.assertEqual(self.load("--sessions", 20, "--concurrency", 4, "--pipelining")["ok"], 20)
        rsa = "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"
        self.assertEqual(self.load("--sessions", 10, "--concurrency", 2, "--sigalgs", rsa)["ok"], 10)

    def test_large_message(self):
        r = self.load("--sessions", 2, "--concurrency", 1, "--message-size", 1 << 20)
        self.assertEqual(r["message_bytes"], 2 << 20)

    def test_idle_sessions_are_held_then_quit(self):
        r = self.load("--idle", 50, "--concurrency", 10, "--hold", "0.5")
        self.assertEqual(r["held"], 50)
        self.assertEqual(r["ok"], 50)

    def test_dane_case_runs(self):
        # bench/run_dane.py (`bench.sh --dane`) for one short round: it fails unless both destinations
        # deliver every session and the log shows dane=authenticated and dane=not-applicable.
        script = Path(__file__).resolve().parent.parent / "bench" / "run_dane.py"
        p = subprocess.run([sys.executable, script, "--dsproxy", DSPROXY, "--load", LOAD, "--sessions", "10",
                            "--rounds", "1"], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr[-3000:])
        self.assertRegex(p.stdout, r"\| added by DANE \| [+-]\d+\.\d\d \| [+-]\d+ \|")


if __name__ == "__main__":
    DSPROXY, LOAD = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
