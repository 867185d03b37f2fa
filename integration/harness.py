"""Shared helpers for dsproxy's integration tests.

Real processes on loopback only: dsproxy (proxy and sink), swaks, openssl,
Python's smtplib. Certificates are made here, at test time, with the openssl
command line. Every wait is bounded; every process started is stopped.
"""
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The dsproxy binary under test; set by main() from the command line.
DSPROXY = None


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

    def log_mark(self) -> int:
        """Where the log ends now; wait_for_log(..., since=mark) looks only after it."""
        return len(self.log())

    def log(self) -> str:
        if not self._log.closed:
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


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Polls predicate() until it returns something truthy; returns it, or None at the deadline."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval)


def scrape(url: str) -> str:
    """GET a Prometheus metrics page with curl (a real HTTP client), else urllib."""
    curl = shutil.which("curl")
    if curl:
        return subprocess.run([curl, "--silent", "--show-error", "--fail", "--max-time", "10", url], check=True,
                              capture_output=True, text=True, timeout=20).stdout
    import urllib.request
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def metric_sample(text: str, name: str, labels: str = "") -> float:
    """The value of one sample of a scrape (0 when absent)."""
    key = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    return 0.0


def wait_for_log(process: "Process", pattern: str, timeout: float = 15.0, since: int = 0):
    """Waits until the process's log matches the regular expression; returns the match.
    since: a log_mark() taken before the action, so that a line an earlier test of a shared
    process wrote cannot stand in for the one this action must write."""
    rx = re.compile(pattern)

    def found():
        if process.proc.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.proc.returncode}:\n{process.log()}")
        return rx.search(process.log()[since:])

    match = wait_until(found, timeout)
    if not match:
        raise TimeoutError(f"no log line matching {pattern!r} after {timeout}s:\n{process.log()}")
    return match


# --- SMTP over a raw socket -----------------------------------------------------

class Reply:
    """One SMTP reply: code, the text of each line (without the code), the raw wire form."""

    def __init__(self, code: int, lines: list, wire: str):
        self.code, self.lines, self.wire = code, lines, wire

    @property
    def text(self) -> str:
        return self.lines[-1] if self.lines else ""

    def __repr__(self):
        return f"Reply({self.wire.strip()!r})"


class SmtpClient:
    """An SMTP client that writes exactly the bytes it is given (pipelining, injection, bad input)
    and reads replies one at a time. Every read has a deadline."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def send(self, data) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def _line(self, timeout) -> bytes:
        self.sock.settimeout(timeout if timeout is not None else self.timeout)
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; unread: {self.buffer!r}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def reply(self, timeout=None) -> Reply:
        lines, wire = [], ""
        while True:
            raw = self._line(timeout).decode("utf-8", "replace")
            wire += raw
            text = raw.rstrip("\r\n")
            if len(text) < 3 or not text[:3].isdigit():
                raise ValueError(f"not an SMTP reply line: {raw!r}")
            lines.append(text[4:])
            if len(text) == 3 or text[3] == " ":
                return Reply(int(text[:3]), lines, wire)

    def command(self, line: str, timeout=None) -> Reply:
        self.send(line + "\r\n")
        return self.reply(timeout)

    def quiet_for(self, seconds: float) -> bytes:
        """Returns whatever the server sends within `seconds` (b"" if nothing; raises EOFError at close)."""
        if self.buffer:
            data, self.buffer = self.buffer, b""
            return data
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return b""
        if not data:
            raise EOFError("connection closed")
        return data

    def closed_within(self, seconds: float) -> bool:
        """True when the server closes the connection within `seconds` (anything it sends first is skipped)."""
        end = time.monotonic() + seconds
        self.buffer = b""
        while time.monotonic() < end:
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                if not self.sock.recv(65536):
                    return True
            except (socket.timeout, TimeoutError):
                return False
            except (ConnectionResetError, ssl.SSLError):
                return True
        return False

    def starttls(self, context: ssl.SSLContext = None, server_hostname: str = None) -> None:
        """Wraps the socket after the 220 to STARTTLS has been read. Anything buffered is discarded."""
        if context is None:
            context = client_context()
        self.sock.settimeout(self.timeout)
        self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)
        self.buffer = b""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def client_context(ca_file=None, cert=None, key=None) -> ssl.SSLContext:
    """A TLS client context for tests: verifies against ca_file when given, else not at all."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_file:
        ctx.load_verify_locations(str(ca_file))
        ctx.check_hostname = False
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


def message(subject: str = "test", body: str = "Hello.", size: int = 0, sender="sender@sender.test",
            to="user@example.com") -> str:
    """A small RFC 5322 message with CRLF line ends; padded with body lines to about `size` bytes."""
    head = f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}." \
           f"{time.monotonic_ns()}@sender.test>\r\n\r\n{body}\r\n"
    line = "x" * 76 + "\r\n"
    while len(head) < size:
        head += line
    return head


# --- swaks and openssl s_client -----------------------------------------------

class SwaksResult:
    def __init__(self, returncode: int, output: str):
        self.returncode, self.output = returncode, output

    def replies(self) -> list:
        """The server's replies in order, as (code, last line text). swaks marks server lines with
        '<-' (plain), '<~' (TLS), '<**' / '<~*' when it judged the reply an error."""
        out, current = [], None
        for line in self.output.splitlines():
            m = re.match(r"^ *<[-~*]\*? +(\d{3})([ -])(.*)$", line)
            if not m:
                continue
            if m.group(2) == " ":
                out.append((int(m.group(1)), m.group(3)))
        return out

    def final_dot_reply(self):
        """The reply to the end of data (the one after the 354), or None."""
        rs = self.replies()
        for i, (code, _) in enumerate(rs):
            if code == 354 and i + 1 < len(rs):
                return rs[i + 1]
        return None

    def __repr__(self):
        return f"swaks exit {self.returncode}:\n{self.output}"


def swaks(port: int, *args, timeout: float = 60) -> SwaksResult:
    cmd = ["swaks", "--server", "127.0.0.1", "--port", str(port), "--timeout", "15", *[str(a) for a in args]]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return SwaksResult(r.returncode, r.stdout + r.stderr)


def s_client(port: int, *args, timeout: float = 30) -> str:
    """openssl s_client -starttls smtp; returns its output (the handshake summary and peer chain)."""
    cmd = ["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{port}", *[str(a) for a in args]]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input="QUIT\n")
    return r.stdout + r.stderr


def peer_subject_cn(s_client_output: str):
    """The CN of the peer's leaf certificate in s_client's 'Certificate chain' listing."""
    m = re.search(r"^ 0 s:.*?CN ?= ?([^,/\n]+)", s_client_output, re.M)
    return m.group(1).strip() if m else None


# --- dsproxy and its sink -----------------------------------------------------

def merge(base: dict, patch: dict) -> dict:
    """Deep merge of patch into a copy of base; a None value in patch deletes the key."""
    out = dict(base)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


class Stack:
    """dsproxy (`run`, one inbound listener) in front of `dsproxy sink`, on free loopback ports,
    with a configuration written into `root`. The configuration is JSON, which is YAML.

    certs: (cert, key) pairs copied into the certificate store directory (`certificates.directories`).
    config: patch merged into the default configuration.
    sink_args: extra arguments for the sink (e.g. ["--fault", "end-of-data=451"]).
    upstream_down: point the upstream at a port where nothing listens (and start no sink).
    """

    FQDN = "mx.example.com"

    def __init__(self, root: Path, pki: Pki, certs=(), config=None, sink_args=(), upstream_down=False,
                 sink_tls=False):
        self.root, self.pki = root, pki
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.sink_port = free_port()
        self.maildir = root / "maildir"
        self.certs_dir = root / "certs"
        self.certs_dir.mkdir(exist_ok=True)
        for cert, key in certs:
            shutil.copy(cert, self.certs_dir / Path(cert).name)
            shutil.copy(key, self.certs_dir / Path(key).name)
            os.chmod(self.certs_dir / Path(key).name, 0o600)
        base = {
            "logging": {"level": "info"},
            "listeners": {"edge": {"role": "inbound", "listen": [f"127.0.0.1:{self.port}"], "fqdn": self.FQDN,
                                   "tls": "starttls", "upstream": "backend"}},
            "upstreams": {"backend": {"hosts": [f"127.0.0.1:{self.sink_port}"], "tls": {"level": "opportunistic"}}},
            "accepted_domains": ["example.com"],
            "certificates": {"directories": ["certs"]},
            "trust": {"system": False, "ca_file": str(pki.ca_cert)},
            "policies": {"default": {"level": "opportunistic"}},
            "timeouts": {"shutdown_drain": "5s"},
            "process": {"allow_root": True},  # the tests run as whoever runs them, root included
        }
        self.config = merge(base, config or {})
        self.config_path = root / "dsproxy.yaml"
        self.config_path.write_text(json.dumps(self.config, indent=2) + "\n")
        self.sink_args = list(sink_args)
        self.sink_tls = sink_tls
        self.upstream_down = upstream_down
        self.proxy = None
        self.sink = None

    def start(self) -> "Stack":
        if not self.upstream_down:
            args = [DSPROXY, "sink", "--listen", f"127.0.0.1:{self.sink_port}", "--maildir", self.maildir,
                    "--fqdn", "sink.test", *self.sink_args]
            if self.sink_tls:
                cert, key = self.pki.leaf("sink.test", dns=["sink.test"])
                args += ["--cert", cert, "--key", key]
            self.sink = Process(args, self.root / "sink.log")
            wait_for_log(self.sink, r"sink listening on")
        self.proxy = Process([DSPROXY, "run", "-c", self.config_path], self.root / "dsproxy.log")
        wait_for_log(self.proxy, r"dsproxy \S+ started with")
        return self

    def stop(self) -> tuple:
        rc_proxy = self.proxy.stop() if self.proxy else None
        rc_sink = self.sink.stop() if self.sink else None
        return rc_proxy, rc_sink

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    def messages(self) -> list:
        return maildir_messages(self.maildir)

    def message_texts(self) -> list:
        return [p.read_bytes().decode("utf-8", "replace") for p in self.messages()]

    def proxy_log(self) -> str:
        return self.proxy.log() if self.proxy else ""

    def sink_log(self) -> str:
        return self.sink.log() if self.sink else ""

    def logs(self) -> str:
        return f"--- dsproxy log ---\n{self.proxy_log()}\n--- sink log ---\n{self.sink_log()}"

    def client(self, timeout: float = 10.0) -> SmtpClient:
        return SmtpClient(self.port, timeout=timeout)


class FakeConnection:
    """What one connection to a FakeSmtp server carried: every command line with whether it
    came inside TLS, and every message (envelope, content, whether inside TLS)."""

    def __init__(self):
        self.lines = []       # (tls: bool, line: str)
        self.messages = []    # {"mail": str, "rcpts": [str], "data": bytes, "tls": bool}
        self.tls = False      # a TLS handshake completed
        self.ehlo_count = 0

    def commands(self, tls=None) -> list:
        return [line for t, line in self.lines if tls is None or t == tls]


class _Lines:
    """Buffered CRLF line reader over a socket (plain or TLS)."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                return None
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def exactly(self, n: int):
        while len(self.buf) < n:
            if not self._fill():
                return None
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def data(self):
        """DATA content up to CRLF.CRLF (the final dot excluded), or None at EOF."""
        while True:
            at = (b"\r\n" + self.buf).find(b"\r\n.\r\n")
            if at >= 0:
                out, self.buf = self.buf[:at], self.buf[at + 3:]  # out keeps its last CRLF
                return out
            if not self._fill():
                return None


class FakeSmtp:
    """A scriptable SMTP server on loopback: the test double of a backend or next hop, and of an
    attacker in the middle. It accepts every recipient (the worst backend: an open relay trusting
    the proxy) and records what arrived, so a test can check what dsproxy passed on.

    ehlo: the extensions listed before TLS; ehlo_tls: those listed inside TLS (default: the same).
    starttls: "offer" (needs cert), "hide" (not listed, 502 if asked: a stripping MITM),
    "refuse" (listed, answered 454), "garbage" (listed, 220 then bytes that are not TLS).
    staged: bytes written in the same segment right behind the 220 to STARTTLS (response
    injection, CVE-2011-0411 towards the client side)."""

    def __init__(self, port=None, cert=None, key=None, ehlo=("PIPELINING", "8BITMIME", "SIZE 10485760"),
                 ehlo_tls=None, starttls="offer", staged=b"", name="fake.test"):
        self.port = port or free_port()
        self.ehlo, self.ehlo_tls = list(ehlo), (list(ehlo_tls) if ehlo_tls is not None else None)
        self.starttls, self.staged, self.name = starttls, staged, name
        self.context = None
        if cert:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(str(cert), str(key))
        self.connections = []
        self._stop = threading.Event()
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.server.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                sock, _ = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn = FakeConnection()
            self.connections.append(conn)
            threading.Thread(target=self._serve, args=(sock, conn), daemon=True).start()

    def _serve(self, sock, conn):
        sock.settimeout(20)
        conn.sockets = [sock]
        try:
            self._session(sock, conn)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            for s in reversed(conn.sockets):
                with contextlib.suppress(OSError):
                    s.close()

    def _session(self, sock, conn):
        io, tls = _Lines(sock), False

        def say(text):
            io.sock.sendall(text.encode() if isinstance(text, str) else text)

        say(f"220 {self.name} ESMTP fake\r\n")
        current = None
        while True:
            raw = io.line()
            if raw is None:
                return
            line = raw.decode("latin-1")
            conn.lines.append((tls, line))
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                conn.ehlo_count += 1
                caps = self.ehlo_tls if tls and self.ehlo_tls is not None else self.ehlo
                caps = list(caps) + (["STARTTLS"] if not tls and self.starttls != "hide" else [])
                lines = [self.name] + caps
                say("".join(f"250{'-' if i < len(lines) - 1 else ' '}{t}\r\n" for i, t in enumerate(lines)))
            elif verb == "HELO":
                say(f"250 {self.name}\r\n")
            elif verb == "STARTTLS":
                if tls or self.starttls == "hide":
                    say("502 5.5.1 Error: command not implemented\r\n")
                elif self.starttls == "refuse":
                    say("454 4.7.0 TLS not available due to local problem\r\n")
                elif self.starttls == "garbage":
                    say(b"220 2.0.0 Ready to start TLS\r\nthis is not a TLS record\r\n")
                    return
                else:
                    say(b"220 2.0.0 Ready to start TLS\r\n" + self.staged)
                    wrapped = self.context.wrap_socket(io.sock, server_side=True)
                    conn.sockets.append(wrapped)
                    io, tls, conn.tls, current = _Lines(wrapped), True, True, None
            elif verb == "MAIL":
                current = {"mail": line.split(":", 1)[-1].strip(), "rcpts": [], "data": b"", "tls": tls}
                say("250 2.1.0 Ok\r\n")
            elif verb == "RCPT":
                if current is not None:
                    current["rcpts"].append(line.split(":", 1)[-1].strip())
                say("250 2.1.5 Ok\r\n")
            elif verb == "DATA":
                say("354 End data with <CR><LF>.<CR><LF>\r\n")
                data = io.data()
                if data is None:
                    return
                if current is not None:
                    current["data"] = data
                    conn.messages.append(current)
                current = None
                say("250 2.0.0 Ok: queued by fake\r\n")
            elif verb == "BDAT":
                args = line.split()
                chunk = io.exactly(int(args[1]))
                if chunk is None:
                    return
                if current is not None:
                    current["data"] += chunk
                    current["bdat"] = True
                    if len(args) > 2 and args[2].upper() == "LAST":
                        conn.messages.append(current)
                        current = None
                say("250 2.0.0 Ok: chunk\r\n")
            elif verb == "RSET":
                current = None
                say("250 2.0.0 Ok\r\n")
            elif verb == "QUIT":
                say("221 2.0.0 Bye\r\n")
                return
            elif verb == "XCLIENT":
                say(f"220 {self.name} ESMTP fake\r\n")
            else:
                say("250 2.0.0 Ok\r\n")

    def messages(self) -> list:
        return [m for c in self.connections for m in c.messages]

    def lines(self, tls=None) -> list:
        return [line for c in self.connections for line in c.commands(tls)]

    def mark(self) -> list:
        """A snapshot of how many lines each connection has carried so far, for since()."""
        return [len(c.lines) for c in list(self.connections)]

    def since(self, mark: list, verbs=("MAIL", "RCPT", "DATA", "BDAT")) -> list:
        """Command lines with one of `verbs` that arrived after `mark`, on any connection.
        Counted per connection: an earlier session's connection that is still winding down
        (its QUIT) neither hides nor fakes a line of the session under test."""
        out = []
        for i, c in enumerate(list(self.connections)):
            start = mark[i] if i < len(mark) else 0
            out += [line for _, line in c.lines[start:]
                    if verbs is None or line.split(" ", 1)[0].split(":", 1)[0].upper() in verbs]
        return out

    def close(self):
        self._stop.set()
        with contextlib.suppress(OSError):
            self.server.close()
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def received_headers(text: str) -> list:
    """The Received: header fields of a message, unfolded, top first."""
    head = text.split("\r\n\r\n", 1)[0]
    fields = re.split(r"\r\n(?![ \t])", head)
    return [re.sub(r"\r\n[ \t]+", " ", f) for f in fields if f.lower().startswith("received:")]


def dsproxy_received(text: str) -> str:
    """dsproxy's Received: header in a stored message (the one that names dsproxy), or ''."""
    for h in received_headers(text):
        if "(dsproxy)" in h and f"by {Stack.FQDN}" in h:
            return h
    return ""


# --- a DNS zone for routing tests ----------------------------------------------

def start_dnsmasq(work: Path, zone: list) -> tuple:
    """dnsmasq answering for *.test on 127.0.0.1 from the command-line `zone` records; returns (process, port)."""
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    user = ["--user=root"] if os.geteuid() == 0 else []
    for _ in range(10):
        port = free_port()
        proc = subprocess.Popen([exe, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                                 "--pid-file=", *user, "--listen-address=127.0.0.1", "--bind-interfaces",
                                 f"--port={port}", "--local=/test/", *zone],
                                stdout=subprocess.DEVNULL, stderr=open(work / "dnsmasq.err", "wb"))
        time.sleep(0.3)
        if proc.poll() is None:
            return proc, port
    raise RuntimeError("dnsmasq did not start: " + (work / "dnsmasq.err").read_text())


def main() -> None:
    """Entry point of a test script: `python3 SCRIPT PATH/TO/dsproxy [unittest args]`."""
    global DSPROXY
    if len(sys.argv) < 2:
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/dsproxy [unittest arguments]")
    DSPROXY = str(Path(sys.argv[1]).resolve())
    unittest.main(argv=[sys.argv[0], *sys.argv[2:]], verbosity=2)
