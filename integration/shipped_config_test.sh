#!/usr/bin/env bash
# shipped_config_test.sh DSPROXY — the README's demo as shipped: a copy of
# conf.d/ run as it is (dsproxy on 127.0.0.1:2525 with STARTTLS, the
# self-signed certificate for `localhost` made at first start, the sink on
# 127.0.0.1:2526 as backend, exactly as scripts/run.sh starts them), then the
# README's swaks and openssl s_client lines against it, and the hardened TLS
# defaults (no TLS 1.1, ECDHE only, X25519/P-256 only) as openssl sees them.
set -u
dsproxy=$(readlink -f "${1:?usage: shipped_config_test.sh PATH/TO/dsproxy}")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

for port in 2525 2526; do
    if (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        echo "shipped_config: port $port is in use (is the demo running?); stop it and run again"; exit 1
    fi
done
cp -r "$here/../conf.d" "$work/conf.d"
rm -rf "$work/conf.d/certs"   # a fresh machine: no certificate yet
as_root=()
[ "$(id -u)" -eq 0 ] && as_root=(--allow-root)
"$dsproxy" sink --listen 127.0.0.1:2526 --maildir "$work/maildir" > "$work/sink.log" 2>&1 &
pids+=($!)
(cd "$work" && exec "$dsproxy" run -c conf.d/dsproxy.yaml "${as_root[@]}") > "$work/run.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    (echo > /dev/tcp/127.0.0.1/2525) 2>/dev/null && (echo > /dev/tcp/127.0.0.1/2526) 2>/dev/null && break
    sleep 0.1
done

[ -f "$work/conf.d/certs/localhost.pem" ] && ok || fail "no self-signed certificate made at first start: $(ls "$work/conf.d/certs" 2>&1)"
key=$(ls "$work"/conf.d/certs/*.key 2>/dev/null | head -n 1)
[ -n "$key" ] && [ "$(stat -c %a "$key")" = 600 ] && ok || fail "the key is not mode 0600"

out=$(swaks --server 127.0.0.1:2525 --from alice@sender.example --to postmaster@example.com -tls 2>&1)
grep -q "TLS started" <<<"$out" && ok || fail "swaks -tls did not start TLS: $out"
grep -q '^<~  250 2.0.0 Ok: queued as' <<<"$out" && ok || fail "swaks did not get the sink's 250: $out"
n=$(ls "$work/maildir/new" 2>/dev/null | wc -l)
[ "$n" = 1 ] && ok || fail "the sink stored $n messages, 1 expected"

out=$(echo QUIT | timeout 10 openssl s_client -starttls smtp -connect 127.0.0.1:2525 -brief 2>&1)
grep -q "Protocol version: TLSv1.3" <<<"$out" && ok || fail "s_client: $out"
grep -q "Peer certificate: CN = localhost" <<<"$out" && ok || fail "s_client does not show CN=localhost: $out"

# The hardened defaults of docs/design.md §3, as shipped: TLS 1.2 at least, ECDHE only,
# X25519 and P-256 only.
handshake() { echo QUIT | timeout 10 openssl s_client -starttls smtp -connect 127.0.0.1:2525 "$@" 2>&1; }
handshake -tls1_2 -cipher ECDHE | grep -q "^New, TLSv1.2, Cipher is ECDHE-" && ok || fail "TLS 1.2 with ECDHE refused"
handshake -tls1_2 -cipher kRSA | grep -q "^New, TLSv1.2" && fail "a TLS 1.2 suite without ECDHE was accepted" || ok
handshake -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' | grep -q "^New, TLSv1" && fail "TLS 1.1 accepted" || ok
handshake -groups secp384r1 | grep -q "^New, TLSv1" && fail "group secp384r1 accepted" || ok
handshake -groups P-256 | grep -q "^New, TLSv1.3" && ok || fail "group P-256 refused"

out=$(swaks --server 127.0.0.1:2525 --from alice@sender.example --to someone@elsewhere.example 2>&1)
grep -q '^<\*\* 550 5.7.1' <<<"$out" && ok || fail "relaying to a domain not accepted was not refused with 550 5.7.1: $out"
grep -q 'info sid=.* txn from=<alice@sender.example> to=<postmaster@example.com>' "$work/run.log" && ok \
    || fail "no transaction line in the log"

echo "shipped_config: $passed passed, $failed failed"
[ "$failed" = 0 ] || { echo "---- run.log"; tail -n 30 "$work/run.log"; exit 1; }
