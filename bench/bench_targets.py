"""bench_targets — the processes of the side-by-side benchmark, each configured here in a
temporary directory on loopback: the sinks (`dsproxy sink`), dsproxy, stunnel, nginx's mail proxy
and the auth_http endpoint that nginx requires.

Owns: the certificates (ECDSA P-256 and RSA-2048, made with the openssl command line), the
configuration files, the process trees, and the figures read from /proc about them (CPU time as
utime+stime of every process in the tree, RSS as the sum of VmRSS).
Must not: touch anything outside the work directory, or listen anywhere but 127.0.0.1.
Fairness (the issue's rules): one worker/thread per peer (nginx `worker_processes 1`; dsproxy one
I/O thread unless asked; stunnel has no single-thread mode: it runs a thread per connection), TLS
1.3 enabled everywhere, no TLS session tickets or cache anywhere (mail clients rarely resume),
nginx with `smtp_client_buffer 64k`, and every peer at its default log level.
"""
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

FQDN = "mx.bench.test"


def run(args, **kw):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, timeout=120, **kw)


def free_port() -> int:
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    """True when a socket listens on 127.0.0.1:port (read from /proc, so no probe session is made)."""
    want = f":{port:04X}"
    for table in ("/proc/net/tcp",):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1].endswith(want) and fields[3] == "0A":
                    return True
    return False


def tree(pid: int) -> list:
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime+stime of the process tree (all threads, live and exited)."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except OSError:
            pass
    return total / CLK_TCK


def rss_kib(pid: int) -> int:
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
            total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total


class Pki:
    """A self-signed ECDSA P-256 and an RSA-2048 certificate for FQDN."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.ecdsa = self._make(directory, "ecdsa", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        self.rsa = self._make(directory, "rsa", ["-newkey", "rsa:2048"])

    @staticmethod
    def _make(directory: Path, name: str, key_args: list) -> tuple:
        cert, key = directory / f"{name}.pem", directory / f"{name}.key"
        run(["openssl", "req", "-x509", *key_args, "-nodes", "-days", "30", "-keyout", key, "-out", cert,
             "-subj", f"/CN={FQDN}", "-addext", f"subjectAltName=DNS:{FQDN}",
             "-addext", "extendedKeyUsage=serverAuth,clientAuth"])
        os.chmod(key, 0o600)
        return cert, key


class Process:
    """One started process tree with its log file."""

    def __init__(self, name: str, args: list, log: Path, port: int, env=None, cwd=None):
        self.name, self.port, self.log_path = name, port, log
        self._log = open(log, "wb")
        self.proc = subprocess.Popen([str(a) for a in args], stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        end = time.monotonic() + (120 if "valgrind" in str(args[0]) else 20)
        while not listening(port):
            if self.proc.poll() is not None or time.monotonic() > end:
                self.stop()
                raise RuntimeError(f"{name} did not start (exit {self.proc.returncode}); log:\n"
                                   + log.read_text(errors="replace")[-3000:])
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> int:
        return rss_kib(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT if self.name.startswith("dsproxy") else signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


class Sink:
    """`dsproxy sink --no-fsync`, logging warnings only: infrastructure, not a target (except for
    the direct path, where it terminates STARTTLS itself)."""

    def __init__(self, dsproxy: Path, work: Path, name: str, cert=None, wrapper=()):
        self.maildir = work / f"maildir-{name}"
        self.port = free_port()
        args = [dsproxy, "sink", "--listen", f"127.0.0.1:{self.port}", "--maildir", self.maildir, "--no-fsync",
                "--fqdn", FQDN, "--log-level", "warn"]
        if cert:
            args += ["--cert", cert[0], "--key", cert[1]]
        self.process = Process(f"sink-{name}", [*wrapper, *args], work / f"sink-{name}.log", self.port)

    def clean(self) -> int:
        """Deletes stored messages (they are counted by the generator); returns how many there were."""
        n = 0
        for sub in ("new", "tmp", "cur"):
            d = self.maildir / sub
            if d.is_dir():
                for f in d.iterdir():
                    f.unlink(missing_ok=True)
                    n += sub == "new"
        return n


class Dsproxy:
    """dsproxy run: one inbound listener with STARTTLS (ECDSA and RSA certificates for FQDN, the
    ECDSA one served to clients that offer ECDSA), relaying in plain text to the plain sink."""

    def __init__(self, dsproxy: Path, work: Path, pki: Pki, sink_port: int, threads: int = 1,
                 implicit: bool = False, name: str = "dsproxy", wrapper=()):
        import json
        root = work / name
        root.mkdir(exist_ok=True)
        certs = root / "certs"
        certs.mkdir(exist_ok=True)
        for cert, key in (pki.ecdsa, pki.rsa):
            shutil.copy(cert, certs / cert.name)
            shutil.copy(key, certs / key.name)
            os.chmod(certs / key.name, 0o600)
        self.port = free_port()
        config = {
            "listeners": {"edge": {"role": "inbound", "listen": [f"127.0.0.1:{self.port}"], "fqdn": FQDN,
                                   "tls": "implicit" if implicit else "starttls", "upstream": "sink"}},
            "upstreams": {"sink": {"hosts": [f"127.0.0.1:{sink_port}"], "tls": {"level": "none"}}},
            "accepted_domains": ["example.com"],
            "certificates": {"directories": ["certs"]},
            "trust": {"system": False},
            # Loopback: every client is 127.0.0.1, and the idle test holds 10,000 sessions.
            "limits": {"max_connections": 30000, "max_connections_per_client": 30000, "message_size": "50MiB"},
            # Explicit: the default is one I/O thread per core. The benchmark runs as whoever
            # runs it, root included, on loopback ports.
            "process": {"io_threads": threads, "allow_root": True},
        }
        args = [dsproxy, "run", "-c", root / "dsproxy.yaml"]
        (root / "dsproxy.yaml").write_text(json.dumps(config, indent=2) + "\n")
        self.process = Process(name, [*wrapper, *args], root / "dsproxy.log", self.port)


class Stunnel:
    """stunnel (Debian's stunnel4), server mode with `protocol = smtp`: it answers EHLO and
    STARTTLS itself and then passes the TLS-decrypted stream to the plain sink."""

    def __init__(self, work: Path, pki: Pki, sink_port: int):
        root = work / "stunnel"
        root.mkdir(exist_ok=True)
        self.port = free_port()
        conf = root / "stunnel.conf"
        conf.write_text(f"""; written by bench_targets.py
foreground = yes
pid =
[smtp]
accept = 127.0.0.1:{self.port}
connect = 127.0.0.1:{sink_port}
protocol = smtp
cert = {pki.ecdsa[0]}
key = {pki.ecdsa[1]}
sslVersionMin = TLSv1.2
sslVersionMax = TLSv1.3
; stunnel 5.68 has no setting for the number of TLS 1.3 tickets: OpenSSL's default (2) stays
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
""")
        self.process = Process("stunnel", [shutil.which("stunnel4") or "stunnel", conf], root / "stunnel.log",
                               self.port)


class Nginx:
    """nginx's mail proxy (nginx-light + libnginx-mod-mail), one worker, STARTTLS on, smtp_auth
    none, smtp_client_buffer 64k, relaying to the plain sink; the auth_http endpoint nginx requires
    is a second nginx instance (HTTP only), whose CPU is not counted as the mail proxy's."""

    MODULE = "/usr/lib/nginx/modules/ngx_mail_module.so"

    def __init__(self, work: Path, pki: Pki, sink_port: int):
        root = work / "nginx"
        for sub in ("mail", "auth"):
            (root / sub / "logs").mkdir(parents=True, exist_ok=True)
        self.auth_port, self.port = free_port(), free_port()
        temp = "".join(f"{d}_temp_path {root}/auth/{d}; " for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (root / "auth.conf").write_text(f"""# written by bench_targets.py: the auth_http endpoint
worker_processes 1;
daemon off;
pid {root}/auth/nginx.pid;
error_log {root}/auth/logs/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    {temp}
    server {{
        listen 127.0.0.1:{self.auth_port};
        location /auth {{
            add_header Auth-Status OK;
            add_header Auth-Server 127.0.0.1;
            add_header Auth-Port {sink_port};
            return 204;
        }}
    }}
}}
""")
        (root / "mail.conf").write_text(f"""# written by bench_targets.py: the mail proxy under test
load_module {self.MODULE};
worker_processes 1;
daemon off;
pid {root}/mail/nginx.pid;
error_log {root}/mail/logs/error.log;
events {{ worker_connections 30000; }}
mail {{
    server_name {FQDN};
    auth_http 127.0.0.1:{self.auth_port}/auth;
    proxy_pass_error_message on;
    xclient off;
    server {{
        listen 127.0.0.1:{self.port};
        protocol smtp;
        smtp_auth none;
        smtp_capabilities PIPELINING "SIZE 52428800" 8BITMIME ENHANCEDSTATUSCODES;
        smtp_client_buffer 64k;
        starttls on;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate {pki.ecdsa[0]};
        ssl_certificate_key {pki.ecdsa[1]};
        ssl_certificate {pki.rsa[0]};
        ssl_certificate_key {pki.rsa[1]};
        ssl_session_cache off;
        ssl_session_tickets off;
    }}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.auth = Process("nginx-auth", [nginx, "-p", root / "auth", "-e", root / "auth/logs/error.log", "-c",
                                           root / "auth.conf"], root / "auth.log", self.auth_port)
        try:
            self.process = Process("nginx", [nginx, "-p", root / "mail", "-e", root / "mail/logs/error.log", "-c",
                                             root / "mail.conf"], root / "mail.log", self.port)
        except Exception:
            self.auth.stop()
            raise

    def stop(self) -> None:
        self.process.stop()
        self.auth.stop()


def versions(dsproxy: Path) -> dict:
    def first_line(args):
        try:
            p = subprocess.run(args, capture_output=True, text=True, timeout=10)
            return (p.stdout + p.stderr).strip().splitlines()
        except OSError:
            return ["not installed"]

    stunnel = [l for l in first_line([shutil.which("stunnel4") or "stunnel", "-version"]) if l.startswith("stunnel")]
    nginx = first_line([shutil.which("nginx") or "nginx", "-v"])
    return {
        "openssl": first_line(["openssl", "version"])[0],
        "stunnel": stunnel[0] if stunnel else "not installed",
        "nginx": nginx[0] if nginx else "not installed",
    }
