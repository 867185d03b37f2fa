#!/usr/bin/env bash
# test.sh — the README's test command: install the build and test
# dependencies (it says which first: the test tools include Postfix, which
# replaces an installed Exim, and HAProxy and rsyslog), build, and run
# the whole test suite (unit tests and integration tests) through CTest; then
# build everything again with ASan+UBSan (-DDSPROXY_SANITIZE=ON) into a second
# build directory and run the whole suite once more under the sanitizers
# (docs/design.md §10).
#
# Any sanitizer report fails the run, including one from a dsproxy process
# that an integration test started and whose exit status it does not check:
# reports go to files under the sanitizer build's sanitizer-reports/, and
# the run fails if any file appears there.
#
#   DSPROXY_BUILD_DIR           normal build (default ./build)
#   DSPROXY_SANITIZE_BUILD_DIR  sanitizer build (default ./build-sanitize)
#   DSPROXY_TEST_SANITIZE=0     skip the sanitizer pass (quick local runs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${DSPROXY_BUILD_DIR:-$root/build}
sbuild=${DSPROXY_SANITIZE_BUILD_DIR:-$root/build-sanitize}
jobs=$(nproc)
echo "test.sh: installing what is missing of the build and packaging tools and these test tools:" \
    "$("$root/scripts/install-deps.sh" list-test | tr '\n' ' ')"
echo "test.sh: (Postfix provides mail-transport-agent and replaces an installed Exim; the services" \
    "are not started: every test runs its own instance in a temporary directory)"
"$root/scripts/install-deps.sh" build package test

DSPROXY_BUILD_DIR=$build "$root/scripts/build.sh"
(cd "$build" && ctest --output-on-failure -j"$jobs")

[[ ${DSPROXY_TEST_SANITIZE:-1} == 0 ]] && exit 0

echo "== the same suite under AddressSanitizer + UndefinedBehaviorSanitizer"
DSPROXY_BUILD_DIR=$sbuild "$root/scripts/build.sh" -DDSPROXY_SANITIZE=ON
reports=$sbuild/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
# halt_on_error: the first report ends the process with a failing status.
# detect_leaks: LeakSanitizer runs at every instrumented process's exit.
# log_path: reports go to files (one per process) that are checked below.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:print_stacktrace=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:report_error_type=1:log_path=$reports/ubsan"
export LSAN_OPTIONS="print_suppressions=0"
status=0
(cd "$sbuild" && ctest --output-on-failure -j"$jobs") || status=$?
if compgen -G "$reports/*" >/dev/null; then
    echo "sanitizer reports:" >&2
    for f in "$reports"/*; do
        echo "---- $f" >&2
        cat "$f" >&2
    done
    status=1
fi
exit "$status"
