"""systemd notifications (issue 8): READY=1, RELOADING=1, STOPPING=1 on $NOTIFY_SOCKET.

The test plays the service manager: it binds a unix datagram socket (a path,
and an abstract name with '@'), starts `dsproxy run` with NOTIFY_SOCKET
pointing at it, and reads what dsproxy says at start, on SIGHUP (a good
reload and a refused one) and on SIGTERM. The certificate store holds one
certificate that expires in 5 days: the expiry warning appears at start and
again at the reload.
"""
import os
import shutil
import signal
import socket
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DSPROXY = None


class Notify(unittest.TestCase):
    def setUp(self):
        self._wd = harness.workdir("dsproxy-notify-")
        w = self.work = self._wd.__enter__()
        pki = harness.Pki(w / "pki")
        cert, key = pki.leaf("mx", dns=["mx.example.org"], days=5)
        certs = w / "certs"
        certs.mkdir()
        shutil.copy(cert, certs / "mx.pem")
        shutil.copy(key, certs / "mx.key")
        (certs / "mx.key").chmod(0o600)
        self.port = harness.free_port()
        self.config = w / "dsproxy.yaml"
        self.good_config = f"""
process: {{allow_root: true}}  # the tests run as whoever runs them, root included
listeners:
  inbound:
    role: inbound
    listen: ["127.0.0.1:{self.port}"]
    fqdn: mx.example.org
    upstream: sink
upstreams:
  sink:
    hosts: ["127.0.0.1:{harness.free_port()}"]
accepted_domains: [example.org]
certificates:
  directories: [certs]
trust:
  ca_file: {pki.ca_cert}
"""
        self.config.write_text(self.good_config)

    def tearDown(self):
        self._wd.__exit__(None, None, None)

    def start(self, address: str, bind_to):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(bind_to)
        sock.settimeout(10)
        env = dict(os.environ, NOTIFY_SOCKET=address)
        proxy = harness.Process([DSPROXY, "run", "-c", self.config], self.work / "dsproxy.log", env=env)
        return sock, proxy

    def expect(self, sock, proxy, wanted: str) -> str:
        try:
            message = sock.recv(4096).decode()
        except socket.timeout:
            self.fail(f"no notification (wanted {wanted}); log:\n{proxy.log()[-3000:]}")
        self.assertIn(wanted, message.split("\n"), message)
        return message

    def lifecycle(self, address: str, bind_to):
        sock, proxy = self.start(address, bind_to)
        try:
            self.expect(sock, proxy, "READY=1")
            harness.wait_for_port(self.port, proc=proxy.proc)
            self.assertEqual(proxy.log().count("certificate mx.example.org"), 1)
            self.assertRegex(proxy.log(), r"certificate mx\.example\.org \(.*mx\.pem\) expires in [45] day\(s\)")

            proxy.send_signal(signal.SIGHUP)
            reloading = self.expect(sock, proxy, "RELOADING=1")
            self.assertRegex(reloading, r"(^|\n)MONOTONIC_USEC=\d+(\n|$)")
            self.expect(sock, proxy, "READY=1")
            self.assertIn("reloaded", proxy.log())
            self.assertEqual(proxy.log().count("certificate mx.example.org"), 2)

            self.config.write_text(self.good_config + "no_such_key: 1\n")
            proxy.send_signal(signal.SIGHUP)
            self.expect(sock, proxy, "RELOADING=1")
            self.expect(sock, proxy, "READY=1")
            self.assertIn("reload refused", proxy.log())

            proxy.send_signal(signal.SIGTERM)
            self.expect(sock, proxy, "STOPPING=1")
            rc = proxy.stop(timeout=15)
            self.assertEqual(rc, 0, proxy.log_path.read_text()[-3000:])
        finally:
            proxy.stop(signal.SIGKILL)
            sock.close()

    def test_path_socket(self):
        path = str(self.work / "notify.sock")
        self.lifecycle(path, path)

    def test_abstract_socket(self):
        name = f"dsproxy-notify-test-{os.getpid()}"
        self.lifecycle("@" + name, "\0" + name)

    def test_without_notify_socket_nothing_breaks(self):
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        proxy = harness.Process([DSPROXY, "run", "-c", self.config], self.work / "plain.log", env=env)
        try:
            harness.wait_for_port(self.port, proc=proxy.proc)
            rc = proxy.stop(timeout=15)
            self.assertEqual(rc, 0, proxy.log_path.read_text()[-3000:])
            self.assertNotIn("service manager", proxy.log_path.read_text())
        finally:
            proxy.stop(signal.SIGKILL)


if __name__ == "__main__":
    DSPROXY = sys.argv.pop(1)
    unittest.main()
