#!/usr/bin/env bash
# build.sh — configure and build dsproxy with CMake + Ninja into ./build
# (or $DSPROXY_BUILD_DIR). Extra arguments go to the CMake configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${DSPROXY_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja "$@" >/dev/null
cmake --build "$build"
