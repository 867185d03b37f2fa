#!/usr/bin/env bash
# run.sh — the README's run command: install dependencies, build, and run
# dsproxy. With no arguments it demonstrates name matching (SPEC §5); any
# arguments are passed to the dsproxy binary instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${DSPROXY_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh" >&2
"$root/scripts/build.sh" >&2
if [ "$#" -gt 0 ]; then exec "$build/proxy/dsproxy" "$@"; fi
exec "$build/proxy/dsproxy" match --domain contoso.com --name mail.contoso.com --name '*.contoso.com' --explain
