#!/usr/bin/env bash
# run.sh TARGET SECONDS — build one libFuzzer target with clang into
# build-fuzz/ and run it for SECONDS on a copy of its seed corpus.
# TARGET: matching | command_parser | reply_parser | address | server_session | client_session | data_reader
#         | config_loader | certificate_names | sts_policy | sts_records, or `all`: each of them in turn for SECONDS
#         (a summary line per target at the end; fails if any target found a crash).
# Crashes are written to build-fuzz/crashes/TARGET/; the committed seeds in
# fuzz/corpus/TARGET/ are never modified (new inputs go to fuzz/corpus-work/).
set -euo pipefail
target=${1:?usage: fuzz/run.sh TARGET|all SECONDS}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$target" = all ]; then
    status=0 summary=""
    for t in matching command_parser reply_parser address server_session client_session data_reader config_loader \
             certificate_names sts_policy sts_records; do
        log=$(mktemp)
        "$0" "$t" "$seconds" 2>&1 | tee "$log" | grep -E "^(Done|==[0-9]+==ERROR|SUMMARY)" || true
        runs=$(grep -oE "^Done [0-9]+ runs" "$log" | grep -oE "[0-9]+" || echo "?")
        crashes=$(ls "$root/build-fuzz/crashes/$t" 2>/dev/null | wc -l)
        summary+="$t: $runs runs in ${seconds} s, $crashes crash input(s)"$'\n'
        [ "$crashes" = 0 ] && [ "$runs" != "?" ] || status=1
        rm -f "$log"
    done
    printf '%s' "$summary"
    exit "$status"
fi
build=$root/build-fuzz
cxx=$(command -v clang++-14 || command -v clang++)
cmake -S "$root" -B "$build" -G Ninja -DDSPROXY_FUZZ=ON -DDSPROXY_INTEGRATION=OFF \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" --target "fuzz_$target" -j2
work=$root/fuzz/corpus-work/$target
crashes=$build/crashes/$target
mkdir -p "$work" "$crashes"
"$build/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -artifact_prefix="$crashes/" "$work" "$root/fuzz/corpus/$target"
