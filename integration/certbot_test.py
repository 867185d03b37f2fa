"""Let's Encrypt's way into dsproxy's certificate store (docs/design.md §4.2): a real ACME
server (Debian's `pebble`, with `pebble-challtestsrv` as its DNS) and a real `certbot`
issue a certificate on loopback with a real HTTP-01 validation; certbot's deploy hook
(contrib/certbot/dsproxy-deploy-hook) imports live/NAME/fullchain.pem + privkey.pem
with `dsproxy cert import --key` and reloads the running dsproxy, which then serves the
issued certificate to `openssl s_client`. An SMTP session opened before the renewal,
in TLS, delivers its message after it: no session is dropped. A forced renewal (a new
key) replaces the file again. The installed file is checked with openssl: mode 0600,
key and certificate match, chain verifies against pebble's root.
"""
import json
import os
import shutil
import ssl
import subprocess
import sys
import unittest
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

HOOK = harness.HERE.parent / "contrib" / "certbot" / "dsproxy-deploy-hook"
NAME = "mail.dsproxy.test"


def fingerprint(pem_text: str) -> str:
    r = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=pem_text,
                       capture_output=True, text=True, check=True, timeout=30)
    return r.stdout.strip().split("=", 1)[1].replace(":", "")


def served_fingerprint(port: int) -> str:
    out = harness.s_client(port, "-servername", NAME)
    begin = out.find("-----BEGIN CERTIFICATE-----")
    end = out.find("-----END CERTIFICATE-----")
    if begin < 0:
        raise AssertionError("no certificate served:\n" + out)
    return fingerprint(out[begin:end + len("-----END CERTIFICATE-----")] + "\n")


@unittest.skipUnless(shutil.which("pebble") and shutil.which("certbot") and shutil.which("pebble-challtestsrv"),
                     "pebble and certbot are test dependencies (scripts/install-deps.sh test)")
class CertbotDeployHook(unittest.TestCase):
    def setUp(self):
        self._wd = harness.workdir("dsproxy-certbot-")
        w = self.work = self._wd.__enter__()
        self.addCleanup(self._wd.__exit__, None, None, None)
        pki = harness.Pki(w / "pki")
        # pebble's own HTTPS (the ACME API) under the test PKI; certbot trusts it.
        acme_cert, acme_key = pki.leaf("acme", dns=["localhost"])
        dns_port, http_port, acme_port, mgmt_port, chall_mgmt = (harness.free_port() for _ in range(5))
        self.challtest = harness.Process(
            ["pebble-challtestsrv", "-dns01", f"127.0.0.1:{dns_port}", "-http01", "", "-https01", "",
             "-tlsalpn01", "", "-management", f"127.0.0.1:{chall_mgmt}", "-defaultIPv4", "127.0.0.1",
             "-defaultIPv6", ""], w / "challtestsrv.log")
        self.addCleanup(self.challtest.stop)
        harness.wait_for_port(chall_mgmt, proc=self.challtest.proc)
        config = {"pebble": {"listenAddress": f"127.0.0.1:{acme_port}",
                             "managementListenAddress": f"127.0.0.1:{mgmt_port}",
                             "certificate": str(acme_cert), "privateKey": str(acme_key),
                             "httpPort": http_port, "tlsPort": harness.free_port(), "ocspResponderURL": "",
                             "externalAccountBindingRequired": False}}
        (w / "pebble.json").write_text(json.dumps(config))
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
        self.pebble = harness.Process(["pebble", "-config", w / "pebble.json", "-dnsserver",
                                       f"127.0.0.1:{dns_port}"], w / "pebble.log", env=env)
        self.addCleanup(self.pebble.stop)
        harness.wait_for_port(acme_port, proc=self.pebble.proc)
        harness.wait_for_port(mgmt_port, proc=self.pebble.proc)
        ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
        with urllib.request.urlopen(f"https://localhost:{mgmt_port}/roots/0", context=ctx, timeout=10) as r:
            self.acme_root = w / "acme-root.pem"
            self.acme_root.write_bytes(r.read())

        # dsproxy serving mail.dsproxy.test, first with a self-signed certificate.
        self.stack = harness.Stack(w / "dsproxy", pki, config={"listeners": {"edge": {"fqdn": NAME}},
                                                                "accepted_domains": ["dsproxy.test"]})
        harness.run([harness.DSPROXY, "cert", "selfsigned", "--store", self.stack.certs_dir, "--fqdn", NAME,
                     "--key-type", "ec:p256"])
        self.stack.start()
        self.addCleanup(self.stack.stop)
        self.certbot_env = dict(os.environ, REQUESTS_CA_BUNDLE=str(pki.ca_cert),
                                DSPROXY=harness.DSPROXY, DSPROXY_STORE=str(self.stack.certs_dir),
                                DSPROXY_RELOAD=f"kill -HUP {self.stack.proxy.proc.pid}",
                                DSPROXY_HOOK_CONFIG=str(w / "no-such-hook-config"))
        self.certbot_dirs = ["--config-dir", w / "le" / "config", "--work-dir", w / "le" / "work",
                             "--logs-dir", w / "le" / "logs"]
        self.certbot_common = ["--non-interactive", "--server", f"https://localhost:{acme_port}/dir",
                               "--standalone", "--http-01-address", "127.0.0.1", "--http-01-port", str(http_port),
                               *self.certbot_dirs]
        self.live = w / "le" / "config" / "live" / NAME

    def certbot(self, *args):
        r = subprocess.run(["certbot", *[str(a) for a in args]], capture_output=True, text=True, timeout=240,
                           env=self.certbot_env, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, f"certbot {args[0]} failed:\n{r.stdout}\n{r.stderr}\n"
                                          f"--- pebble ---\n{self.pebble.log()}\n{self.stack.logs()}")
        return r.stdout + r.stderr

    def check_installed(self):
        """The store's file, checked with openssl: the live/ certificate, its key, mode 0600, chain verifies."""
        installed = self.stack.certs_dir / f"{NAME}.pem"
        self.assertEqual(installed.stat().st_mode & 0o777, 0o600)
        text = installed.read_text()
        self.assertIn("PRIVATE KEY-----", text)
        self.assertEqual(fingerprint(text), fingerprint((self.live / "cert.pem").read_text()))
        pub_cert = harness.run(["openssl", "x509", "-in", installed, "-noout", "-pubkey"]).stdout
        pub_key = harness.run(["openssl", "pkey", "-in", installed, "-pubout"]).stdout
        self.assertEqual(pub_cert, pub_key)
        chain = self.work / "chain-only.pem"
        chain.write_text((self.live / "chain.pem").read_text())
        verify = harness.run(["openssl", "verify", "-CAfile", self.acme_root, "-untrusted", chain, installed],
                             check=False)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        return fingerprint(text)

    def test_issue_then_renew_each_served_after_the_hook_without_dropping_a_session(self):
        selfsigned = served_fingerprint(self.stack.port)

        # A session in TLS, open across the issuance and the reload.
        client = self.stack.client(timeout=30)
        self.addCleanup(client.close)
        self.assertEqual(client.reply().code, 220)
        self.assertEqual(client.command("EHLO before.test").code, 250)
        self.assertEqual(client.command("STARTTLS").code, 220)
        client.starttls()
        self.assertEqual(client.command("EHLO before.test").code, 250)

        mark = self.stack.proxy.log_mark()
        out = self.certbot("certonly", *self.certbot_common, "--agree-tos", "--register-unsafely-without-email",
                           "--key-type", "ecdsa", "-d", NAME, "--deploy-hook", HOOK)
        self.assertIn("dsproxy-deploy-hook: " + NAME + " installed", out)
        harness.wait_for_log(self.stack.proxy, r"reloaded ", since=mark)
        issued = self.check_installed()
        self.assertNotEqual(issued, selfsigned)
        self.assertEqual(served_fingerprint(self.stack.port), issued)

        # The session opened before the reload goes on and delivers.
        self.assertEqual(client.command("MAIL FROM:<a@before.test>").code, 250)
        self.assertEqual(client.command("RCPT TO:<b@dsproxy.test>").code, 250)
        self.assertEqual(client.command("DATA").code, 354)
        self.assertEqual(client.command("Subject: across the renewal\r\n\r\nstill here\r\n.").code, 250)
        self.assertEqual(client.command("QUIT").code, 221)
        self.assertTrue(harness.wait_until(lambda: any("across the renewal" in t for t in self.stack.message_texts())),
                        self.stack.logs())

        # A renewal (certbot makes a new key) replaces the file again and is served.
        mark = self.stack.proxy.log_mark()
        self.certbot("renew", "--force-renewal", "--no-random-sleep-on-renew", "--non-interactive", *self.certbot_dirs,
                     "--http-01-address", "127.0.0.1", "--deploy-hook", HOOK)
        harness.wait_for_log(self.stack.proxy, r"reloaded ", since=mark)
        renewed = self.check_installed()
        self.assertNotEqual(renewed, issued)
        self.assertEqual(served_fingerprint(self.stack.port), renewed)
        # What the store shows for it.
        listing = harness.run([harness.DSPROXY, "cert", "list", "--store", self.stack.certs_dir]).stdout
        self.assertIn(renewed, listing.replace(":", ""))

    def test_a_failed_import_reloads_nothing_and_fails_the_hook(self):
        lineage = self.work / "bad-lineage"
        lineage.mkdir()
        cert, _ = harness.Pki(self.work / "other").leaf("x", dns=[NAME])
        _, other_key = harness.Pki(self.work / "other2").leaf("y", dns=[NAME])
        shutil.copy(cert, lineage / "fullchain.pem")
        shutil.copy(other_key, lineage / "privkey.pem")
        installed = self.stack.certs_dir / f"{NAME}.pem"
        before = installed.read_bytes()
        mark = self.stack.proxy.log_mark()
        r = subprocess.run([str(HOOK)], capture_output=True, text=True, timeout=60,
                           env=dict(self.certbot_env, RENEWED_LINEAGE=str(lineage)))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("belongs to none of the certificates", r.stderr)
        self.assertNotIn("reloaded", self.stack.proxy_log()[mark:])
        self.assertEqual(installed.read_bytes(), before)
        self.assertEqual(sorted(p.name for p in self.stack.certs_dir.iterdir()),
                         [f"{NAME}.key", f"{NAME}.pem"])  # no temporaries left


if __name__ == "__main__":
    harness.main()
