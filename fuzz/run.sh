#!/usr/bin/env bash
# run.sh TARGET SECONDS — build the libFuzzer targets with clang 14 (ASan +
# UBSan) into build-fuzz/ and run TARGET for SECONDS on a working copy of its
# committed seed corpus (fuzz/corpus/<name>/). Crashes are written to
# build-fuzz/crashes/; add each as a regression test once fixed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: fuzz/run.sh TARGET SECONDS (e.g. fuzz_matching 60)}
seconds=${2:-60}
build=$root/build-fuzz
CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja -DDSPROXY_FUZZ=ON -DDSPROXY_INTEGRATION=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target "$target"
corpus=$root/fuzz/corpus/${target#fuzz_}
work=$build/corpus/${target#fuzz_}
mkdir -p "$work" "$build/crashes"
"$build/fuzz/$target" -max_total_time="$seconds" -artifact_prefix="$build/crashes/" "$work" "$corpus"
