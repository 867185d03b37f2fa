"""The metrics endpoint safe to expose (issue 21): credentials, and a refusal to
serve an address others can reach without them.

    python3 metrics_auth_test.py PATH/TO/dsproxy

dsproxy serves /metrics with `bearer_token_file` (Authorization: Bearer) and
with `basic_auth_file` (user:HASH lines, the hash made by `openssl passwd -6`):
a scrape without credentials, or with wrong ones, gets 401 and a
WWW-Authenticate header; the right ones get the metrics. A metrics listener on
0.0.0.0 without credentials is a configuration error (check-config and run
exit 1) unless `allow_unauthenticated: true`.
"""
import base64
import json
import os
import subprocess
import unittest
import urllib.error
import urllib.request

import harness
from harness import Process, free_port, wait_for_log


def get(url, authorization=None):
    request = urllib.request.Request(url)
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class MetricsAuth(unittest.TestCase):
    def setUp(self):
        self._wd = harness.workdir("dsproxy-metrics-auth-")
        self.work = self._wd.__enter__()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.stop()
        self._wd.__exit__(None, None, None)

    def config(self, metrics):
        port = free_port()
        cfg = {
            "metrics": metrics,
            "listeners": {"in": {"role": "inbound", "listen": [f"127.0.0.1:{port}"], "fqdn": "mx.example.com",
                                 "tls": "none", "upstream": "b"}},
            "upstreams": {"b": {"hosts": [f"127.0.0.1:{free_port()}"]}},
            "accepted_domains": ["example.com"],
            "process": {"allow_root": True},
        }
        path = self.work / "dsproxy.yaml"
        path.write_text(json.dumps(cfg) + "\n")
        return path

    def start(self, metrics):
        proc = Process([harness.DSPROXY, "run", "-c", self.config(metrics)], self.work / "dsproxy.log")
        self.procs.append(proc)
        wait_for_log(proc, r"dsproxy \S+ started with")
        return proc

    def test_bearer_token(self):
        token = self.work / "token"
        token.write_text("s3cr3t-t0ken\n")
        os.chmod(token, 0o600)
        port = free_port()
        proc = self.start({"listen": f"127.0.0.1:{port}", "bearer_token_file": str(token)})
        self.assertIn("(credentials required)", proc.log())
        url = f"http://127.0.0.1:{port}/metrics"
        status, headers, _ = get(url)
        self.assertEqual(status, 401)
        self.assertTrue(headers.get("WWW-Authenticate", "").startswith("Bearer"), headers)
        self.assertEqual(get(url, "Bearer s3cr3t-t0keX")[0], 401)
        self.assertEqual(get(url, "Basic czNjcjN0LXQwa2Vu")[0], 401)
        status, _, body = get(url, "Bearer s3cr3t-t0ken")
        self.assertEqual(status, 200)
        self.assertIn("dsproxy_connections_current", body)
        self.assertNotIn("s3cr3t", proc.log())

    def test_basic_auth_file(self):
        digest = subprocess.run(["openssl", "passwd", "-6", "-salt", "dsproxytest", "pa55:word"], check=True,
                                capture_output=True, text=True).stdout.strip()
        users = self.work / "users"
        users.write_text(f"# scrapers\nprometheus:{digest}\n")
        port = free_port()
        self.start({"listen": f"127.0.0.1:{port}", "basic_auth_file": str(users)})
        url = f"http://127.0.0.1:{port}/metrics"

        def basic(user, password):
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

        status, headers, _ = get(url)
        self.assertEqual(status, 401)
        self.assertTrue(headers.get("WWW-Authenticate", "").startswith("Basic"), headers)
        self.assertEqual(get(url, basic("prometheus", "pa55:wore"))[0], 401)
        self.assertEqual(get(url, basic("grafana", "pa55:word"))[0], 401)
        self.assertEqual(get(url, "Basic !!!")[0], 401)
        status, _, body = get(url, basic("prometheus", "pa55:word"))  # a colon in the password is allowed
        self.assertEqual(status, 200)
        self.assertIn("dsproxy_build_info", body)

    def test_refused_on_a_reachable_address_without_credentials(self):
        port = free_port()
        path = self.config({"listen": f"0.0.0.0:{port}"})
        r = subprocess.run([harness.DSPROXY, "check-config", "-q", "-c", str(path)], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("metrics listens on 0.0.0.0:%d, which is not loopback, without `bearer_token_file` or "
                      "`basic_auth_file`" % port, r.stderr)
        r = subprocess.run([harness.DSPROXY, "run", "-c", str(path)], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        # Explicitly allowed: it starts.
        self.start({"listen": f"0.0.0.0:{port}", "allow_unauthenticated": True})
        self.assertEqual(get(f"http://127.0.0.1:{port}/metrics")[0], 200)


if __name__ == "__main__":
    harness.main()
