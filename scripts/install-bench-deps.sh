#!/usr/bin/env bash
# install-bench-deps.sh — the peers and tools of the side-by-side benchmark
# (bench/run_bench.py), from Debian 12 packages. Idempotent; run as root (or
# with sudo available). Not needed to build or test dsproxy: CI does not run
# the benchmark, so scripts/install-deps.sh does not install these.
#
#   stunnel4                     stunnel 5.68, `protocol = smtp` in server mode
#   nginx-light, libnginx-mod-mail  nginx 1.22 with the mail proxy module
#                                (the benchmark runs private instances from a
#                                temporary directory; the system service is
#                                stopped and disabled if the package started it)
#   linux-perf, valgrind, strace profiling and counts (perf record, callgrind,
#                                massif, vgdb; strace -c for `bench.sh --counts`)
#   openssl                      certificates and `openssl speed` (the crypto floor)
#   knot, ldnsutils              `bench.sh --dane` (bench/run_dane.py): a local Knot DNS
#                                serving a zone signed with ldns-signzone
set -euo pipefail

packages=(stunnel4 nginx-light libnginx-mod-mail linux-perf valgrind strace openssl python3 knot ldnsutils)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-bench-deps: all ${#packages[@]} packages present"
else
  export DEBIAN_FRONTEND=noninteractive
  echo "install-bench-deps: installing ${missing[*]}"
  $SUDO apt-get update -q
  # policy-rc.d 101: the packages' maintainer scripts must not start the
  # system nginx/stunnel services (they would hold port 80 or a config).
  had_policy=0
  [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  if [ "$had_policy" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
  fi
  status=0
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
  if [ "$had_policy" -eq 0 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  [ "$status" -eq 0 ] || exit "$status"
fi

# Where a service manager runs, keep the system nginx from holding port 80.
if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi
