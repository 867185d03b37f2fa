#!/usr/bin/env bash
# test.sh — the README's test command: install dependencies, build, and run
# the whole test suite (unit tests and integration tests) through CTest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${DSPROXY_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j"$(nproc)"
