#!/usr/bin/env python3
"""https_server — the HTTPS peer of the MTA-STS and TLS-RPT tests: an MTA-STS
policy host and a TLS-RPT collector in one (Python's http.server + ssl).

    https_server.py --cert CERT --key KEY --root DIR --ready FILE [--port P]

GET: serves DIR/<host>/<path> (host from the Host header, without the port);
DIR/<host>/<path>.json may give {"status": 301, "content_type": "text/html",
"location": "...", "delay": 5} for that file. Missing: 404.
POST: the body goes to DIR/posts/<n>.body and the headers to
DIR/posts/<n>.json; the reply is 200 (or DIR/post_status's number).
Every request is appended to DIR/requests.log as "METHOD HOST PATH".
Listens on 127.0.0.1 (port 0: any free port) and writes the port to FILE
when it accepts connections. Stops on SIGTERM.
"""
import argparse
import http.server
import json
import os
import signal
import ssl
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    root = args.root
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def host(self):
            h = self.headers.get("Host", "")
            return h.rsplit(":", 1)[0] if not h.endswith("]") else h

        def record(self):
            with lock, open(os.path.join(root, "requests.log"), "a") as f:
                f.write("%s %s %s\n" % (self.command, self.host(), self.path))

        def do_GET(self):
            self.record()
            path = os.path.normpath(os.path.join(root, self.host(), self.path.lstrip("/")))
            if not path.startswith(os.path.abspath(root)) or not os.path.isfile(path):
                return self.reply(404, "text/plain", b"not found\n")
            meta = {}
            if os.path.isfile(path + ".json"):
                with open(path + ".json") as f:
                    meta = json.load(f)
            time.sleep(meta.get("delay", 0))
            with open(path, "rb") as f:
                body = f.read()
            self.reply(meta.get("status", 200), meta.get("content_type", "text/plain"), body, meta.get("location"))

        def do_POST(self):
            self.record()
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            posts = os.path.join(root, "posts")
            with lock:
                os.makedirs(posts, exist_ok=True)
                n = len([x for x in os.listdir(posts) if x.endswith(".body")]) + 1
                with open(os.path.join(posts, "%d.json" % n), "w") as f:
                    json.dump({"path": self.path, "host": self.host(), "headers": dict(self.headers.items())}, f)
                with open(os.path.join(posts, "%d.body" % n), "wb") as f:
                    f.write(body)
            status = 200
            status_file = os.path.join(root, "post_status")
            if os.path.isfile(status_file):
                with open(status_file) as f:
                    status = int(f.read().strip())
            self.reply(status, "text/plain", b"ok\n")

        def reply(self, status, content_type, body, location=None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if location:
                self.send_header("Location", location)
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.ready)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
