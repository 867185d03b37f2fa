#!/usr/bin/env bash
# install-deps.sh — install everything dsproxy needs to build, run and test,
# from Debian 12 packages. Idempotent; run as root (or with sudo available).
#
# Boost 1.81 (not the default 1.74): its Asio has awaitable_operators and
# as_tuple, which the session coroutines use.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-test1.81-dev
  libssl-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libidn2-dev libcli11-dev
  libc-ares-dev
  # fuzzing and sanitizers (clang 14 + its runtime)
  clang-14 libclang-rt-14-dev
  # test tools
  swaks libnet-ssleay-perl python3 openssl
  dnsmasq-base  # a local DNS test zone for the routing integration test
  postfix       # the sending MTA of the outbound integration test (own config, temp dir)
  testssl.sh    # integration/tls_scan.sh: the STARTTLS scan of SPEC §10
  haproxy       # the load balancer of the PROXY v2 integration test (own config, foreground, temp dir)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
