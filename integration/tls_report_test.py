"""TLS reports (RFC 8460) end to end: `dsproxy tls-report show` and `send`.

A store holding one day's counters for example.test, whose `_smtp._tls` record asks for
reports by mail (mailto:tlsrpt@reports.test) and by HTTPS (https://collector.test:PORT/...).
Real peers on loopback: `dsproxy run` as the outbound listener the mailed report goes
through, `dsproxy sink` as the reports.test MX (a static route), Python's http.server + ssl
as the collector (integration/https_server.py, certificate from the test's CA), dnsmasq
answering collector.test, and (Fleet) a real redis-server shared by two instances.
Checks: `show` prints the counters and the RFC 8460 §4 report; `send` POSTs it gzip-
compressed as application/tlsrpt+gzip and mails it with the §5.3 headers; both copies are
the same report, checked field by field; a second `send` sends nothing (already-sent);
two instances sending at once on one Redis send one report; a refused POST and a dead
listener fail the run and release the claim.
Counters are written with the sqlite3 and redis-cli tools: counting during delivery
comes with MTA-STS enforcement (README "TLS reports").
"""
import base64
import email
import gzip
import json
import os
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

HERE = Path(__file__).resolve().parent
DAY = "2026-12-01"
POLICY = "version: STSv1\nmode: enforce\nmx: *.example.test\nmax_age: 86400\n"


def key(policy_type, text, result="success", sending="", mx="", ip=""):
    # The store's canonical counter key (proxy/sts/tlsrpt_counts.hpp): a JSON array.
    return json.dumps([policy_type, text, result, sending, mx, ip], separators=(",", ":"), ensure_ascii=False)


COUNTS = [
    (key("sts", POLICY), 90),
    (key("sts", POLICY, "certificate-host-mismatch", "192.0.2.10", "mx1.example.test", "198.51.100.1"), 5),
    (key("sts", POLICY, "starttls-not-supported", "192.0.2.10", "mx2.example.test", "198.51.100.2"), 1),
    (key("no-policy-found", ""), 7),
]


def check_report(test, report, port):
    """RFC 8460 §4, field by field."""
    test.assertEqual(report["organization-name"], "Example Sender Ltd")
    test.assertEqual(report["contact-info"], "tlsrpt@sender.test")
    test.assertEqual(report["report-id"], f"{DAY}T00:00:00Z_example.test@mta.sender.test")
    test.assertEqual(report["date-range"], {"start-datetime": f"{DAY}T00:00:00Z", "end-datetime": f"{DAY}T23:59:59Z"})
    test.assertEqual(len(report["policies"]), 2)
    sts, none = report["policies"]
    test.assertEqual(sts["policy"], {"policy-type": "sts", "policy-domain": "example.test",
                                     "policy-string": POLICY.strip().split("\n"), "mx-host": ["*.example.test"]})
    test.assertEqual(sts["summary"], {"total-successful-session-count": 90, "total-failure-session-count": 6})
    test.assertEqual(sts["failure-details"], [
        {"result-type": "certificate-host-mismatch", "sending-mta-ip": "192.0.2.10",
         "receiving-mx-hostname": "mx1.example.test", "receiving-ip": "198.51.100.1", "failed-session-count": 5},
        {"result-type": "starttls-not-supported", "sending-mta-ip": "192.0.2.10",
         "receiving-mx-hostname": "mx2.example.test", "receiving-ip": "198.51.100.2", "failed-session-count": 1},
    ])
    test.assertEqual(none["policy"], {"policy-type": "no-policy-found", "policy-domain": "example.test"})
    test.assertEqual(none["summary"], {"total-successful-session-count": 7, "total-failure-session-count": 0})
    test.assertNotIn("failure-details", none)


class TlsReports(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._wd = harness.workdir("dsproxy-tlsrpt-")
        w = cls.work = cls._wd.__enter__()
        cls.pki = harness.Pki(w / "pki")
        cert, keyfile = cls.pki.leaf("collector", dns=["collector.test"])
        cls.www = w / "www"
        cls.www.mkdir()
        cls.collector = harness.Process(
            [sys.executable, str(HERE / "https_server.py"), "--cert", str(cert), "--key", str(keyfile),
             "--root", str(cls.www), "--ready", str(w / "collector.port")], w / "collector.log")
        harness.wait_until(lambda: (w / "collector.port").exists(), timeout=20)
        cls.collector_port = int((w / "collector.port").read_text())
        cls.dns, cls.dns_port = harness.start_dnsmasq(w, ["--host-record=collector.test,127.0.0.1"])
        cls.sink_port = harness.free_port()
        cls.maildir = w / "maildir"
        cls.sink = harness.Process([harness.DSPROXY, "sink", "--listen", f"127.0.0.1:{cls.sink_port}", "--maildir",
                                    cls.maildir, "--fqdn", "mx.reports.test"], w / "sink.log")
        harness.wait_for_log(cls.sink, r"sink listening on")
        cls.port = harness.free_port()
        cls.record = (f"v=TLSRPTv1; rua=mailto:tlsrpt@reports.test,"
                      f"https://collector.test:{cls.collector_port}/v1/tlsrpt")
        cls.config = cls.write_config(w / "dsproxy.yaml", {"path": str(w / "store.db")})
        cls.proxy = harness.Process([harness.DSPROXY, "run", "-c", cls.config], w / "dsproxy.log")
        harness.wait_for_log(cls.proxy, r"dsproxy \S+ started with")

    @classmethod
    def write_config(cls, path, store, listen_port=None):
        config = {
            "logging": {"level": "info"},
            "listeners": {"smarthost": {"role": "outbound", "listen": [f"127.0.0.1:{listen_port or cls.port}"],
                                        "fqdn": "mta.sender.test", "allowed_clients": ["127.0.0.0/8"],
                                        "without_certificate": "plain"}},  # no STARTTLS for the submitters
            # dnsmasq does not sign: no DNSSEC validation
            "outbound": {"dns_servers": [f"127.0.0.1:{cls.dns_port}"], "dns_timeout": "3s", "trust_anchors": []},
            "trust": {"system": False, "ca_file": str(cls.pki.ca_cert)},
            "policies": {"default": {"level": "opportunistic"},
                         "reports.test": {"level": "opportunistic", "route": [f"127.0.0.1:{cls.sink_port}"]}},
            "store": store,
            "tls_reporting": {"organization": "Example Sender Ltd", "contact": "tlsrpt@sender.test",
                              "from": "noreply-tlsrpt@sender.test", "submitter": "mta.sender.test"},
            "process": {"allow_root": True},
            "timeouts": {"shutdown_drain": "5s"},
        }
        path.write_text(json.dumps(config, indent=2) + "\n")
        return path

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.sink, cls.collector):
            p.stop()
        cls.dns.terminate()
        cls.dns.wait(10)
        cls._wd.__exit__(None, None, None)

    def cli(self, *args, config=None, check=True):
        r = subprocess.run([harness.DSPROXY, "tls-report", *args, "-c", str(config or self.config)],
                           capture_output=True, text=True, timeout=120)
        if check:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def fill_sqlite(self, db, domain="example.test", record=None):
        self.cli("show", "--day", DAY)  # opens (creates) the store and its schema
        sql = [f"INSERT INTO tlsrpt_domain(day, domain, record) VALUES('{DAY}', '{domain}', "
               f"'{record or self.record}');"]
        for k, n in COUNTS:
            sql.append(f"INSERT INTO tlsrpt_count(day, domain, key, count) VALUES('{DAY}', '{domain}', "
                       f"'{k}', {n});")
        subprocess.run(["sqlite3", str(db)], input="\n".join(sql), text=True, check=True)

    def posts(self):
        d = self.www / "posts"
        return sorted(d.glob("*.json"), key=lambda p: int(p.stem)) if d.is_dir() else []

    def test_1_show_send_and_send_again(self):
        self.fill_sqlite(self.work / "store.db")
        out = self.cli("show", "example.test", "--day", DAY).stdout
        self.assertIn(f"domain example.test day {DAY} report none\n", out)
        self.assertIn(f"rua mailto:tlsrpt@reports.test https://collector.test:{self.collector_port}/v1/tlsrpt\n", out)
        self.assertIn("count sts success 90\n", out)
        self.assertIn("count sts certificate-host-mismatch 5 192.0.2.10 mx1.example.test 198.51.100.1\n", out)
        self.assertIn("count no-policy-found success 7\n", out)
        check_report(self, json.loads(self.cli("show", "example.test", "--day", DAY, "--json").stdout),
                     self.collector_port)

        r = self.cli("send", "--day", DAY)
        self.assertIn("sent example.test\n", r.stdout)
        self.assertIn("  mailto:tlsrpt@reports.test accepted 250", r.stdout)
        self.assertIn(f"  https://collector.test:{self.collector_port}/v1/tlsrpt accepted HTTP 200\n", r.stdout)

        # The HTTPS copy: POST application/tlsrpt+gzip (RFC 8460 §5.2).
        posts = self.posts()
        self.assertEqual(len(posts), 1)
        meta = json.loads(posts[0].read_text())
        self.assertEqual(meta["path"], "/v1/tlsrpt")
        self.assertEqual(meta["headers"]["Content-Type"], "application/tlsrpt+gzip")
        posted = gzip.decompress(posts[0].with_suffix(".body").read_bytes())
        check_report(self, json.loads(posted), self.collector_port)
        keep = os.environ.get("DSPROXY_KEEP_REPORT")
        if keep:
            Path(keep).write_bytes(posted)

        # The mailed copy, through the outbound listener to the sink (RFC 8460 §5.3).
        mails = harness.maildir_messages(self.maildir)
        self.assertEqual(len(mails), 1)
        msg = email.message_from_bytes(mails[0].read_bytes())
        self.assertEqual(msg["From"], "<noreply-tlsrpt@sender.test>")
        self.assertEqual(msg["To"], "<tlsrpt@reports.test>")
        self.assertEqual(msg["Subject"], "Report Domain: example.test Submitter: mta.sender.test "
                                         f"Report-ID: <{DAY}T00:00:00Z_example.test@mta.sender.test>")
        self.assertEqual(msg["TLS-Report-Domain"], "example.test")
        self.assertEqual(msg["TLS-Report-Submitter"], "mta.sender.test")
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "tlsrpt")
        parts = msg.get_payload()
        self.assertEqual(parts[0].get_content_type(), "text/plain")
        self.assertEqual(parts[1].get_content_type(), "application/tlsrpt+gzip")
        self.assertEqual(parts[1].get_filename(), "mta.sender.test!example.test!1796083200!1796169599!"
                                                  f"{DAY}.json.gz")
        self.assertEqual(gzip.decompress(parts[1].get_payload(decode=True)), posted)
        self.assertIn("txn from=<noreply-tlsrpt@sender.test> to=<tlsrpt@reports.test>", self.proxy.log())

        # Sent once: the next run sends nothing.
        r = self.cli("send", "--day", DAY)
        self.assertIn("already-sent example.test\n", r.stdout)
        self.assertEqual(len(self.posts()), 1)
        self.assertIn(f"report sent by mta.sender.test/", self.cli("show", "example.test", "--day", DAY).stdout)

    def test_2_failed_destinations_release_the_claim(self):
        db = self.work / "fail.db"
        cfg = self.write_config(self.work / "fail.yaml", {"path": str(db)}, listen_port=harness.free_port())
        self.config_backup, self.config = self.config, cfg
        try:
            self.fill_sqlite(db, "fail.test")
            (self.www / "post_status").write_text("503\n")
            r = self.cli("send", "--day", DAY, "--domain", "fail.test", check=False)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("failed fail.test\n", r.stdout)
            self.assertIn("refused HTTP 503", r.stdout)
            self.assertIn("  mailto:tlsrpt@reports.test refused cannot connect", r.stdout)
            self.assertIn(f"domain fail.test day {DAY} report none\n", self.cli("show", "fail.test", "--day", DAY).stdout)
            (self.www / "post_status").unlink()
            r = self.cli("send", "--day", DAY, "--domain", "fail.test", check=False)
            self.assertIn("sent fail.test\n", r.stdout)  # the https copy; the mail one still has no listener
        finally:
            self.config = self.config_backup
            if (self.www / "post_status").exists():
                (self.www / "post_status").unlink()

    def test_3_fleet_on_one_redis_sends_one_report(self):
        redis_port = harness.free_port()
        redis = harness.Process(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(self.work)], self.work / "redis.log")
        try:
            harness.wait_for_port(redis_port, proc=redis.proc)
            store = {"redis": f"redis://127.0.0.1:{redis_port}/2"}
            a = self.write_config(self.work / "a.yaml", store)
            b = self.write_config(self.work / "b.yaml", store, listen_port=self.port)

            def redis_cli(*args):
                return subprocess.run(["redis-cli", "-p", str(redis_port), "-n", "2", *args], check=True,
                                      capture_output=True, text=True).stdout

            redis_cli("SADD", f"dsproxy:tlsrpt:{DAY}:domains", "fleet.test")
            redis_cli("SET", f"dsproxy:tlsrpt:{DAY}:fleet.test:record",
                      f"v=TLSRPTv1; rua=https://collector.test:{self.collector_port}/v1/fleet")
            for k, n in COUNTS:  # half the counts from each instance: added up in one hash
                redis_cli("HINCRBY", f"dsproxy:tlsrpt:{DAY}:fleet.test:counts", k, str(n - n // 2))
                redis_cli("HINCRBY", f"dsproxy:tlsrpt:{DAY}:fleet.test:counts", k, str(n // 2))
            self.assertEqual(self.cli("show", "fleet.test", "--day", DAY, config=a).stdout,
                             self.cli("show", "fleet.test", "--day", DAY, config=b).stdout)
            before = len(self.posts())
            procs = [subprocess.Popen([harness.DSPROXY, "tls-report", "send", "-c", str(c), "--day", DAY,
                                       "--domain", "fleet.test"], stdout=subprocess.PIPE, text=True)
                     for c in (a, b)]
            outs = [p.communicate(timeout=120)[0] for p in procs]
            self.assertEqual(sum(o.startswith("sent fleet.test") for o in outs), 1, outs)
            self.assertEqual(sum(o.startswith(("claimed-elsewhere fleet.test", "already-sent fleet.test"))
                                 for o in outs), 1, outs)
            fleet_posts = [p for p in self.posts()[before:] if json.loads(p.read_text())["path"] == "/v1/fleet"]
            self.assertEqual(len(fleet_posts), 1)
            report = json.loads(gzip.decompress(fleet_posts[0].with_suffix(".body").read_bytes()))
            self.assertEqual(report["policies"][0]["summary"]["total-successful-session-count"], 90)
            self.assertEqual(report["policies"][0]["summary"]["total-failure-session-count"], 6)
        finally:
            redis.stop()


if __name__ == "__main__":
    harness.main()
