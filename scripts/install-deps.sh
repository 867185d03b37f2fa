#!/usr/bin/env bash
# install-deps.sh [build|package|test]... — Debian 12 packages for dsproxy, in
# three groups. Idempotent; run as root (or with sudo available).
#
#   build    what building and running need (scripts/run.sh, scripts/build.sh):
#            compiler, CMake, the libraries, python3 (the man pages are made at
#            build time). Nothing here provides or starts a service.
#   package  Debian's packaging tools (scripts/package.sh): debhelper, lintian.
#   test     the test tools (scripts/test.sh): clang for the fuzz targets, and
#            real peers the integration tests start in a temporary directory
#            (Postfix, HAProxy, rsyslog, dnsmasq, testssl.sh, swaks, ...).
#            Postfix provides mail-transport-agent: installing it REPLACES an
#            installed Exim. Their system services are not started by the
#            installation (policy-rc.d); a machine with systemd may still
#            start them at its next boot (systemctl disable postfix haproxy
#            rsyslog, if the machine is not meant to run them).
# Without arguments: build. test.sh asks for all three and says what it is
# about to install first.
#
# Boost 1.81 (not the default 1.74): its Asio has awaitable_operators and
# as_tuple, which the session coroutines use.
set -euo pipefail

build=(
  g++ cmake ninja-build pkg-config python3
  libboost1.81-dev libboost-test1.81-dev
  libssl-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libidn2-dev libcli11-dev
  libpsl-dev publicsuffix  # public suffixes: `cert request` refuses *.com and co.uk (docs/design.md §4.2)
  libunbound-dev  # DNSSEC-validating resolver for all outbound DNS (docs/design.md §6.4)
  dns-root-data   # /usr/share/dns/root.key, the default outbound.trust_anchors (run time)
  nlohmann-json3-dev  # TLS-RPT counter keys and reports (RFC 8460 JSON)
  libsqlite3-dev libhiredis-dev  # the policy store: embedded SQLite, shared Redis (docs/design.md §6.4)
  libcrypt-dev    # crypt_r(3): the metrics endpoint's basic-auth password hashes
  libsystemd-dev  # sd_journal_send(3) for logging.target: journald (libsystemd0 is on every Debian system)
  zlib1g-dev    # gzip of the TLS reports (RFC 8460 §5.3 application/tlsrpt+gzip)
)
package=(
  dpkg-dev debhelper fakeroot lintian
)
test=(
  # fuzzing and sanitizers (clang 14 + its runtime)
  clang-14 libclang-rt-14-dev
  swaks libnet-ssleay-perl openssl
  dnsmasq-base  # a local DNS test zone for the routing integration test
  postfix       # the sending MTA of the outbound integration test (own config, temp dir)
  testssl.sh    # integration/tls_scan.sh: the STARTTLS scan of docs/design.md §10
  haproxy       # the load balancer of the PROXY v2 integration test (own config, foreground, temp dir)
  rsyslog       # the syslog daemon of the logging test (own config and socket, temp dir)
  groff man-db  # the man page test renders both pages with groff -ww and man -l
  bash-completion      # the completion test sources the installed completion
  python3-matplotlib   # renders the dashboard's panels from a real run (docs/dashboard.png)
  systemd       # systemd-analyze verify/security of the unit (no service manager needed)
  redis-server  # the shared store of the store tests and the fleet test (own port, foreground, temp dir)
  knot          # the authoritative DNS server of the DANE integration test (signed zones, loopback)
  ldnsutils     # ldns-keygen / ldns-signzone: the DANE test signs its zones at test time
  pebble        # a local ACME server (with pebble-challtestsrv as its DNS) for the certbot deploy hook test
  certbot       # issues and renews from pebble on loopback; its deploy hook imports into the store
)

groups=("$@")
[ "${#groups[@]}" -gt 0 ] || groups=(build)
packages=()
for g in "${groups[@]}"; do
  case "$g" in
    build) packages+=("${build[@]}") ;;
    package) packages+=("${package[@]}") ;;
    test) packages+=("${test[@]}") ;;
    list-test) printf '%s\n' "${test[@]}"; exit 0 ;;
    *) echo "install-deps: unknown group '$g' (build, package, test)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps (${groups[*]}): all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps (${groups[*]}): installing ${missing[*]}"
$SUDO apt-get update -q
# policy-rc.d 101: maintainer scripts must not start the system services of
# the test peers (Postfix on port 25, HAProxy, rsyslog); the tests run their own.
had_policy=0
[ -e /usr/sbin/policy-rc.d ] && had_policy=1
if [ "$had_policy" -eq 0 ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
fi
status=0
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
if [ "$had_policy" -eq 0 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
exit "$status"
