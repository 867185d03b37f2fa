"""Shared helpers for dsproxy's integration tests.

Real processes on loopback only: dsproxy (proxy and sink), swaks, openssl,
Python's smtplib. Certificates are made here, at test time, with the openssl
command line. Every wait is bounded; every process started is stopped.
"""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 15.0, proc=None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError):
            with socket.create_connection((host, port), timeout=0.5):
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def run(args, check=True, **kw):
    return subprocess.run([str(a) for a in args], check=check, capture_output=True, text=True, timeout=120, **kw)


class Process:
    """A background process whose stderr goes to a log file we can read."""

    def __init__(self, args, log_path: Path, env=None):
        self.args = [str(a) for a in args]
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def send_signal(self, sig) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


class Pki:
    """A test PKI made with the openssl command line: a root CA and leaves."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca_key = self.dir / "ca.key"
        self.ca_cert = self.dir / "ca.pem"
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", self.ca_key, "-out", self.ca_cert, "-days", "30", "-subj", "/O=dsproxy test/CN=Test Root CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        os.chmod(self.ca_key, 0o600)

    def leaf(self, name: str, dns=(), cn=None, usage="serverAuth,clientAuth", days=30, self_signed=False,
             key="ec") -> tuple:
        """Returns (cert_path, key_path); the cert file holds the chain (leaf only here)."""
        key_path = self.dir / f"{name}.key"
        cert_path = self.dir / f"{name}.pem"
        csr = self.dir / f"{name}.csr"
        keyopts = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" else ["-newkey", "rsa:2048"]
        subject = f"/CN={cn or (dns[0] if dns else name)}"
        ext = self.dir / f"{name}.ext"
        lines = ["basicConstraints=CA:FALSE", f"extendedKeyUsage={usage}"]
        if dns:
            lines.append("subjectAltName=" + ",".join(f"DNS:{d}" for d in dns))
        ext.write_text("\n".join(lines) + "\n")
        if self_signed:
            run(["openssl", "req", "-x509", *keyopts, "-nodes", "-keyout", key_path, "-out", cert_path, "-days",
                 str(days), "-subj", subject, "-extensions", "v3", "-config", self._req_config(lines)])
        else:
            run(["openssl", "req", "-new", *keyopts, "-nodes", "-keyout", key_path, "-out", csr, "-subj", subject])
            run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
                 "-CAcreateserial", "-out", cert_path, "-days", str(days), "-extfile", ext])
        os.chmod(key_path, 0o600)
        return cert_path, key_path

    def _ca_config(self) -> Path:
        """A minimal `openssl ca` setup (index, serial, CRL number) under the PKI dir."""
        db = self.dir / "ca-db"
        if not db.is_dir():
            db.mkdir()
            (db / "index.txt").write_text("")
            (db / "serial").write_text("1000\n")
            (db / "crlnumber").write_text("1000\n")
        cnf = self.dir / "ca.cnf"
        cnf.write_text(f"""[ca]
default_ca = test_ca
[test_ca]
database = {db}/index.txt
serial = {db}/serial
crlnumber = {db}/crlnumber
new_certs_dir = {db}
certificate = {self.ca_cert}
private_key = {self.ca_key}
default_md = sha256
default_crl_days = 7
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[leaf]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = $ENV::SAN
""")
        return cnf

    def leaf_dated(self, name: str, dns, start: str, end: str) -> tuple:
        """A CA-issued leaf valid from `start` to `end` (YYYYMMDDHHMMSSZ), e.g. already expired."""
        key_path = self.dir / f"{name}.key"
        cert_path = self.dir / f"{name}.pem"
        csr = self.dir / f"{name}.csr"
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key_path, "-out", csr, "-subj", f"/CN={dns[0]}"])
        env = dict(os.environ, SAN=",".join(f"DNS:{d}" for d in dns))
        run(["openssl", "ca", "-batch", "-notext", "-config", self._ca_config(), "-extensions", "leaf",
             "-startdate", start, "-enddate", end, "-in", csr, "-out", cert_path], env=env)
        os.chmod(key_path, 0o600)
        return cert_path, key_path

    def revoke(self, cert_path: Path) -> Path:
        """Revokes a certificate issued by leaf_dated and returns a fresh CRL (PEM)."""
        env = dict(os.environ, SAN="DNS:unused.invalid")
        cnf = self._ca_config()
        run(["openssl", "ca", "-batch", "-config", cnf, "-revoke", cert_path], env=env)
        crl = self.dir / "ca.crl"
        run(["openssl", "ca", "-batch", "-config", cnf, "-gencrl", "-out", crl], env=env)
        return crl

    def _req_config(self, lines) -> Path:
        path = self.dir / "req.cnf"
        path.write_text("[req]\ndistinguished_name=dn\n[dn]\n[v3]\n" + "\n".join(lines) + "\n")
        return path


@contextlib.contextmanager
def workdir(prefix="dsproxy-it-"):
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def maildir_messages(maildir: Path) -> list:
    new = maildir / "new"
    if not new.is_dir():
        return []
    return sorted(new.iterdir())
