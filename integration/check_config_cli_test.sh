#!/usr/bin/env bash
# check_config_cli_test — `dsproxy check-config` as an administrator runs it
# (docs/design.md §7): the shipped conf.d passes (exit 0) and prints the effective
# config; broken files fail (exit 1) with FILE:LINE:COLUMN messages, the
# nearest-key suggestion, and every error of every file at once.
set -uo pipefail
dsproxy=$(realpath "${1:?usage: check_config_cli_test.sh PATH/TO/dsproxy}")
here=$(cd "$(dirname "$0")" && pwd)
root="$here/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect_rc() {  # expect_rc WHAT WANT GOT
    if [ "$2" = "$3" ]; then pass; else fail "$1: exit $3 (want $2)"; fi
}
expect_in() {  # expect_in WHAT NEEDLE HAYSTACK
    if grep -qF -- "$2" <<<"$3"; then pass; else fail "$1: lacks '$2' in:"; echo "$3"; fi
}

# --- the shipped configuration ----------------------------------------------
out=$("$dsproxy" check-config -c "$root/conf.d/dsproxy.yaml" 2>"$work/stderr"); rc=$?
expect_rc "shipped conf.d" 0 "$rc"
[ -s "$work/stderr" ] && fail "shipped conf.d printed on stderr: $(cat "$work/stderr")" || pass
expect_in "effective config lists the listener" "listen: [127.0.0.1:2525" "$out"
expect_in "effective config fills in defaults" "command_line_length: 512" "$out"
expect_in "effective config merges domains.d" "domains.d/example.yaml" "$out"
expect_in "effective config shows the I/O threads" "io_threads: auto  # one per core" "$out"
expect_in "effective config shows allow_root" "allow_root: false" "$out"

# Without -c: conf.d/dsproxy.yaml relative to the working directory.
out=$(cd "$root" && "$dsproxy" check-config --quiet 2>&1); rc=$?
expect_rc "default path from the source tree" 0 "$rc"
[ -z "$out" ] && pass || fail "--quiet printed: $out"
out=$(cd "$work" && "$dsproxy" check-config 2>&1); rc=$?
expect_rc "default path missing" 1 "$rc"
expect_in "default path missing names the file" "conf.d/dsproxy.yaml: error: cannot read the file" "$out"

# The commented examples of domains.d/example.yaml are valid too, once
# uncommented (with their partner's CA and CRL files present).
cp -r "$root/conf.d" "$work/examples"
rm -rf "$work/examples/certs"
sed -E -i -e 's/^  # ( *)([a-z_.-]+):( |$)/  \1\2:\3/' \
    -e "s|/etc/dsproxy/partners/|$work/examples/|" "$work/examples/domains.d/example.yaml"
grep -q '^  fabrikam.com:' "$work/examples/domains.d/example.yaml" && pass || fail "examples not uncommented"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/examples/ca.key" \
    -out "$work/examples/fabrikam-ca.pem" -days 30 -subj "/CN=Fabrikam CA" 2>/dev/null
touch "$work/examples/index.txt"
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s\ndefault_md=sha256\ndefault_crl_days=30\n' "$work/examples/index.txt" \
    >"$work/examples/ca.cnf"
openssl ca -gencrl -config "$work/examples/ca.cnf" -keyfile "$work/examples/ca.key" \
    -cert "$work/examples/fabrikam-ca.pem" -out "$work/examples/fabrikam.crl" 2>/dev/null
out=$("$dsproxy" check-config -c "$work/examples/dsproxy.yaml" 2>&1); rc=$?
expect_rc "the commented examples, uncommented" 0 "$rc"
expect_in "the uncommented examples are in the effective config" "tls_domain: mail.fabrikam.com" "$out"

# The printed config is itself a valid main file.
mkdir -p "$work/printed"
"$dsproxy" check-config -c "$root/conf.d/dsproxy.yaml" >"$work/printed/dsproxy.yaml"
"$dsproxy" check-config -q -c "$work/printed/dsproxy.yaml"; expect_rc "printed config reloads" 0 $?

# --- broken configurations ----------------------------------------------------
mkdir -p "$work/broken/domains.d"
cat >"$work/broken/dsproxy.yaml" <<'YAML'
include: [domains.d]
listeners:
  in:
    role: inbound
    listen: "127.0.0.1:2525"
    fqdn: localhost
    upstream: sink
upstreams:
  sink: {hosts: ["127.0.0.1:2526"]}
accepted_domains: [localhost]
policies:
  contoso.com:
    level: domain
    on_failur: reject
YAML
cat >"$work/broken/domains.d/a.yaml" <<'YAML'
policies:
  Contoso.COM.:
    level: encrypt
  "*.fabrikam.com":
    level: none
YAML
out=$("$dsproxy" check-config -c "$work/broken/dsproxy.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "broken config" 1 "$rc"
expect_in "unknown key with file:line:column and suggestion" \
    "$work/broken/dsproxy.yaml:14:5: error: unknown key \`on_failur\` in policy \`contoso.com\`, did you mean \`on_failure\`?" "$out"
expect_in "duplicate across files names both places" \
    "$work/broken/domains.d/a.yaml:2:3: error: domain \`contoso.com\` is defined twice: here and at $work/broken/dsproxy.yaml:12:3" "$out"
expect_in "wildcard key" "$work/broken/domains.d/a.yaml:4:3: error: wildcard domain key" "$out"
expect_in "error count" "3 errors" "$out"

printf 'listeners: [oops\n' >"$work/syntax.yaml"
out=$("$dsproxy" check-config -c "$work/syntax.yaml" 2>&1); rc=$?
expect_rc "syntax error" 1 "$rc"
expect_in "syntax error position" "$work/syntax.yaml:2:1: error: YAML syntax error" "$out"

# The other error classes, all in one file and all reported at once.
cat >"$work/classes.yaml" <<'YAML'
include: [missing.d]
listeners:
  in:
    role: inbound
    listen: "127.0.0.1:25x"
    fqdn: localhost
    upstream: sink
    allowed_clients: ["10.1.2.3/8"]
upstreams:
  sink: {hosts: ["127.0.0.1:2526"]}
timeouts:
  shutdown_drain: 5 minutes
limits:
  max_connections: lots
policies:
  contoso.com:
    on_failure: reject
YAML
out=$("$dsproxy" check-config -c "$work/classes.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "error classes" 1 "$rc"
f="$work/classes.yaml"
expect_in "include dir missing" "$f:1:11: error: \`include\`: directory \`$work/missing.d\` does not exist" "$out"
expect_in "bad address" "$f:5:13: error: \`listen\`: port \`25x\`" "$out"
expect_in "bad CIDR with a suggestion" "$f:8:23: error: \`allowed_clients\`: \`10.1.2.3/8\` has host bits set below the prefix; did you mean \`10.0.0.0/8\`?" "$out"
expect_in "bad duration" "$f:12:19: error: \`shutdown_drain\`: unknown duration unit" "$out"
expect_in "wrong type" "$f:14:20: error: \`max_connections\`: expected a whole number, got \`lots\`" "$out"
expect_in "missing required key" "$f:17:5: error: missing required key \`level\` in policy \`contoso.com\`" "$out"
expect_in "all at once" "6 errors" "$out"

# DNSSEC trust anchors of an outbound listener (docs/design.md §6.4): a missing one is
# named where it is written; one that exists but holds no DS/DNSKEY record
# is reported by the validator; none at all (`[]`) is valid.
anchors() {  # anchors FILE TRUST_ANCHORS_VALUE
    cat >"$1" <<EOF2
listeners:
  out: {role: outbound, listen: ["127.0.0.1:2599"], fqdn: relay.example.org, tls: none, allowed_clients: ["127.0.0.0/8"]}
outbound:
  trust_anchors: $2
EOF2
}
anchors "$work/ta-missing.yaml" "[$work/none.key]"
out=$("$dsproxy" check-config -c "$work/ta-missing.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "missing trust anchor" 1 "$rc"
expect_in "missing trust anchor named" "$work/ta-missing.yaml:4:19: error: \`trust_anchors\`: file \`$work/none.key\` does not exist" "$out"
echo "not a key" >"$work/garbage.key"
anchors "$work/ta-garbage.yaml" "[$work/garbage.key]"
out=$("$dsproxy" check-config -c "$work/ta-garbage.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "malformed trust anchor" 1 "$rc"
expect_in "malformed trust anchor reported" "$work/ta-garbage.yaml: error: outbound DNS: trust anchors do not load" "$out"
anchors "$work/ta-none.yaml" "[]"
out=$("$dsproxy" check-config -c "$work/ta-none.yaml" 2>&1); rc=$?
expect_rc "no trust anchors" 0 "$rc"
expect_in "no trust anchors printed" "trust_anchors: []" "$out"

# --- issue 19 item 7: what `run` would refuse or degrade in the certificate store is said ---
# A TLS listener no certificate serves: `run` refuses to start it, so check-config exits 1
# with the same sentence (-q included), unless `without_certificate: plain` accepts plain
# text (a warning, exit 0; -q prints nothing).
certcfg() {  # certcfg FILE DIR AUTO_SELFSIGNED [WITHOUT_CERTIFICATE]
    cat >"$1" <<EOF2
listeners:
  edge: {role: inbound, listen: ["127.0.0.1:2598"], fqdn: mail.contoso.com, upstream: backend${4:+, without_certificate: $4}}
upstreams:
  backend: {hosts: ["127.0.0.1:2597"]}
accepted_domains: [contoso.com]
certificates:
  directories: [$2]
  auto_selfsigned: $3
EOF2
}
mkdir "$work/empty-store"
certcfg "$work/empty.yaml" "$work/empty-store" false
out=$("$dsproxy" check-config -c "$work/empty.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "empty store" 1 "$rc"
expect_in "empty store: the listener without a certificate is named" \
    "$work/empty.yaml: error: listener edge: no usable certificate for mail.contoso.com" "$out"
expect_in "empty store: what run would do" "does not start without one" "$out"
expect_in "empty store: the way out" "set \`without_certificate: plain\` on the listener" "$out"
out=$("$dsproxy" check-config -q -c "$work/empty.yaml" 2>&1); rc=$?
expect_rc "empty store, -q" 1 "$rc"
expect_in "empty store, -q: the error" "error: listener edge: no usable certificate" "$out"
certcfg "$work/plain.yaml" "$work/empty-store" false plain
out=$("$dsproxy" check-config -c "$work/plain.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "empty store, without_certificate: plain" 0 "$rc"
expect_in "without_certificate: plain: a warning" \
    "$work/plain.yaml: warning: listener edge: no usable certificate for mail.contoso.com" "$out"
expect_in "without_certificate: plain: what run does" "STARTTLS is not offered" "$out"
out=$("$dsproxy" check-config -q -c "$work/plain.yaml" 2>&1); rc=$?
expect_rc "without_certificate: plain, -q" 0 "$rc"
[ -z "$out" ] && pass || fail "without_certificate: plain, -q printed: $out"
certcfg "$work/auto.yaml" "$work/auto-store" true
out=$("$dsproxy" check-config -c "$work/auto.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "auto_selfsigned" 0 "$rc"
[ -z "$out" ] && pass || fail "auto_selfsigned: run makes the certificate, yet: $out"
[ ! -e "$work/auto-store" ] && pass || fail "check-config created the store directory"
mkdir "$work/store"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/store/mail.contoso.com.key" \
    -out "$work/store/mail.contoso.com.pem" -days 30 -subj "/CN=mail.contoso.com" \
    -addext subjectAltName=DNS:mail.contoso.com 2>/dev/null
chmod 600 "$work/store/mail.contoso.com.key"
certcfg "$work/store.yaml" "$work/store" false
out=$("$dsproxy" check-config -c "$work/store.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "a usable certificate" 0 "$rc"
[ -z "$out" ] && pass || fail "a usable certificate, yet: $out"
chmod 644 "$work/store/mail.contoso.com.key"
out=$("$dsproxy" check-config -c "$work/store.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "key mode 0644" 1 "$rc"
expect_in "key mode 0644: the listener left without its certificate" \
    "error: listener edge: no usable certificate for mail.contoso.com" "$out"
certcfg "$work/store-plain.yaml" "$work/store" false plain
out=$("$dsproxy" check-config -c "$work/store-plain.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "key mode 0644, without_certificate: plain" 0 "$rc"
expect_in "key mode 0644: refused by run" \
    "warning: certificate refused by \`dsproxy run\`: $work/store/mail.contoso.com.pem" "$out"
expect_in "key mode 0644: the reason" "readable by group or others; chmod 600 it" "$out"
expect_in "key mode 0644: the listener without STARTTLS" "warning: listener edge: no usable certificate for mail.contoso.com" "$out"
chmod 600 "$work/store/mail.contoso.com.key"

# A process.user that does not exist: run refuses to start, so check-config says so (exit 1).
certcfg "$work/user.yaml" "$work/store" false
printf 'process: {user: dsproxy-no-such-user-19}\n' >>"$work/user.yaml"
out=$("$dsproxy" check-config -q -c "$work/user.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "process.user missing" 1 "$rc"
expect_in "process.user missing named" "$work/user.yaml: error: process.user: " "$out"
expect_in "process.user missing: the account" "dsproxy-no-such-user-19" "$out"
certcfg "$work/root-user.yaml" "$work/store" false
printf 'process: {user: root}\n' >>"$work/root-user.yaml"
"$dsproxy" check-config -q -c "$work/root-user.yaml" >/dev/null 2>&1; expect_rc "process.user that exists" 0 $?

# A cipher list that selects nothing: run refuses to start, so check-config says so.
certcfg "$work/ciphers.yaml" "$work/store" false
printf 'policies:\n  fabrikam.com: {level: encrypt, ciphers: "NO-SUCH-CIPHER"}\n' >>"$work/ciphers.yaml"
out=$("$dsproxy" check-config -q -c "$work/ciphers.yaml" 2>&1 >/dev/null); rc=$?
expect_rc "cipher list selecting nothing" 1 "$rc"
expect_in "cipher list selecting nothing named" "error: ciphers \`NO-SUCH-CIPHER\`" "$out"
certcfg "$work/ciphers-ok.yaml" "$work/store" false
printf 'policies:\n  fabrikam.com: {level: encrypt, ciphers: "ECDHE-ECDSA-AES256-GCM-SHA384"}\n' >>"$work/ciphers-ok.yaml"
"$dsproxy" check-config -q -c "$work/ciphers-ok.yaml" >/dev/null 2>&1; expect_rc "a cipher list that selects one" 0 $?

# A key process.user cannot read (a store written by root): run starts, a reload would fail.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    chmod 600 "$work/store/mail.contoso.com.key"
    chown root:root "$work/store/mail.contoso.com.key"
    certcfg "$work/nobody.yaml" "$work/store" false
    printf 'process: {user: nobody}\n' >>"$work/nobody.yaml"
    out=$("$dsproxy" check-config -c "$work/nobody.yaml" 2>&1 >/dev/null); rc=$?
    expect_rc "key unreadable by process.user" 0 "$rc"
    expect_in "key unreadable by process.user named" \
        "warning: process.user nobody cannot read $work/store/mail.contoso.com.key" "$out"
    chown nobody "$work/store/mail.contoso.com.key"
    out=$("$dsproxy" check-config -c "$work/nobody.yaml" 2>&1 >/dev/null)
    ! grep -q "cannot read" <<<"$out" && pass || fail "a key owned by process.user warned: $out"
fi

"$dsproxy" check-config --no-such-flag >/dev/null 2>&1; expect_rc "usage error" 2 $?

echo "check_config_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
