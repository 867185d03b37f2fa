#!/usr/bin/env bash
# tls_scan — docs/design.md §10: dsproxy's TLS configuration passes testssl.sh's
# STARTTLS scan with no HIGH or CRITICAL finding.
#
# Starts `dsproxy run` on a temporary configuration (one inbound STARTTLS
# listener on loopback) whose store holds an ECDSA P-256 and an RSA 2048
# certificate for the same name (docs/design.md §4.1: ECDSA to clients that offer it,
# RSA to the others, so both are scanned), runs `testssl --starttls smtp`
# against it offline (no DNS, no CRL/OCSP fetches), reads testssl's JSON and
# fails on any HIGH or CRITICAL finding, printing the count per severity.
#
# The certificates are made to look like a real deployment's — issued by a
# test CA given to testssl with --add-ca, valid a year, the scanned name in
# the SAN, a CRL distribution point — so that what is judged is the TLS
# configuration (tls/context_settings, tls/server_context), not a throwaway
# certificate. Takes about a minute and a half.
#
#   integration/tls_scan.sh build/proxy/dsproxy [--keep]   (--keep: leave the work dir)
# Exit: 0 clean, 1 a HIGH/CRITICAL finding or a failure, 77 testssl.sh not
# installed (scripts/install-deps.sh test installs the Debian package testssl.sh);
# under CI (CI=true) a missing testssl.sh is a failure, never a skip.
set -uo pipefail
dsproxy=$(realpath "${1:?usage: tls_scan.sh PATH/TO/dsproxy [--keep]}")
keep=${2:-}
testssl=$(command -v testssl || command -v testssl.sh || true)
if [ -z "$testssl" ]; then
    echo "tls_scan: testssl.sh is not installed (apt-get install testssl.sh; scripts/install-deps.sh test does it)" >&2
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi
work=$(mktemp -d /tmp/dsproxy-tls-scan-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    if [ "$keep" = --keep ]; then echo "tls_scan: work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "tls_scan: FAIL: $*" >&2; exit 1; }

name=mx.scan.test
mkdir -p "$work/certs"
cd "$work" || fail "no work dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 400 \
    -subj "/O=dsproxy scan/CN=Scan Test CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || fail "cannot make the CA"
cat > leaf.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:$name
crlDistributionPoints=URI:http://ca.scan.test/scan.crl
EOF
for kind in ec rsa; do
    if [ $kind = ec ]; then keyopts=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); else keyopts=(-newkey rsa:2048); fi
    openssl req -new "${keyopts[@]}" -nodes -keyout "certs/mx-$kind.key" -out "mx-$kind.csr" -subj "/CN=$name" \
        2>/dev/null || fail "cannot make the $kind key"
    openssl x509 -req -in "mx-$kind.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -sha256 \
        -extfile leaf.ext -out "certs/mx-$kind.pem" 2>/dev/null || fail "cannot issue the $kind certificate"
    cat ca.pem >> "certs/mx-$kind.pem"  # the chain, as a real deployment serves it
    chmod 600 "certs/mx-$kind.key"
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > dsproxy.yaml <<EOF
logging: {level: info}
process: {allow_root: true}  # the scan runs as whoever runs it, root included
listeners:
  in: {role: inbound, listen: ["127.0.0.1:$port"], fqdn: $name, tls: starttls, upstream: backend}
upstreams:
  backend: {hosts: ["127.0.0.1:9"], tls: {level: none}}
accepted_domains: [scan.test]
certificates: {directories: [certs]}
trust: {system: false, ca_file: $work/ca.pem}
policies: {default: {level: opportunistic}}
EOF
"$dsproxy" run -c dsproxy.yaml > dsproxy.log 2>&1 &
pid=$!
for _ in $(seq 100); do
    grep -q "started with" dsproxy.log && break
    kill -0 "$pid" 2>/dev/null || { cat dsproxy.log; fail "dsproxy exited"; }
    sleep 0.1
done
grep -q "started with" dsproxy.log || { cat dsproxy.log; fail "dsproxy did not start"; }

# --nodns none + --ip: no DNS at all; no --phone-out: no CRL/OCSP fetches.
# --warnings off: no interactive questions; --color 0: plain text output.
started=$(date +%s)
timeout 900 "$testssl" --quiet --warnings off --color 0 --nodns none --ip 127.0.0.1 --add-ca "$work/ca.pem" \
    --starttls smtp --jsonfile "$work/scan.json" "$name:$port" > testssl.out 2>&1
rc=$?
elapsed=$(( $(date +%s) - started ))
[ -s scan.json ] || { tail -40 testssl.out; fail "testssl wrote no JSON (exit $rc)"; }

python3 - "$work/scan.json" "$elapsed" <<'EOF' || { echo "--- testssl output:"; cat testssl.out; exit 1; }
import collections, json, sys
findings = json.load(open(sys.argv[1]))
counts = collections.Counter(f["severity"] for f in findings)
order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN", "INFO", "OK"]
print(f"tls_scan: testssl.sh STARTTLS scan in {sys.argv[2]} s: " +
      " ".join(f"{s}={counts.get(s, 0)}" for s in order))
for f in findings:
    if f["severity"] not in ("OK", "INFO"):
        print(f"  {f['severity']:8s} {f['id']}: {f['finding']}")
protocols = {f["id"]: f["finding"] for f in findings if f["id"] in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")}
print("  protocols: " + ", ".join(f"{k} {v}" for k, v in protocols.items()))
bad = [f for f in findings if f["severity"] in ("HIGH", "CRITICAL")]
if bad:
    print(f"tls_scan: FAIL: {len(bad)} HIGH/CRITICAL finding(s)")
    sys.exit(1)
if not any(f["id"].startswith("cert_") for f in findings):
    print("tls_scan: FAIL: the scan reports no certificate: did STARTTLS work?")
    sys.exit(1)
EOF
echo "tls_scan: PASS"
