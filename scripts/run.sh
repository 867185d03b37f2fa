#!/usr/bin/env bash
# run.sh — the README's run command: install what building and running need
# (scripts/install-deps.sh build: compiler, CMake, libraries; no test tool,
# no mail server, no service), build, and run
# dsproxy on the shipped configuration (conf.d/dsproxy.yaml): an inbound
# listener on 127.0.0.1:2525 (STARTTLS with a self-signed certificate made on
# first start) in front of the development sink on 127.0.0.1:2526, which
# stores what it accepts in var/maildir/new/. Ctrl-C (or SIGTERM) stops both.
#
# With arguments, runs the dsproxy binary with them instead
# (scripts/run.sh match --domain contoso.com --name mail.contoso.com).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${DSPROXY_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh" build >&2
"$root/scripts/build.sh" >&2
dsproxy=$build/proxy/dsproxy
if [ "$#" -gt 0 ]; then exec "$dsproxy" "$@"; fi

"$dsproxy" sink --listen 127.0.0.1:2526 --maildir "$root/var/maildir" &
sink=$!
trap 'kill "$sink" 2>/dev/null; wait "$sink" 2>/dev/null || true' EXIT
cd "$root"
# The demo serves loopback ports and keeps its certificate in conf.d/certs, as
# whoever runs this script. dsproxy refuses to stay root unless told to (a
# production configuration sets process.user instead): for the demo, say so.
as_root=()
if [ "$(id -u)" -eq 0 ]; then as_root=(--allow-root); fi
"$dsproxy" run -c conf.d/dsproxy.yaml "${as_root[@]}"
