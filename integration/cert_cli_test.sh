#!/usr/bin/env bash
# cert_cli_test — `dsproxy cert` as an administrator uses it (docs/design.md §4.2),
# checked with the openssl command line: a request verifies and carries the
# subject and SANs asked for; selfsigned is valid 365 days; a CA made here
# signs the request and `import` installs it next to its key (PEM, DER and
# PKCS#7); keys are mode 0600; refusals exit 2 with a reason.
set -uo pipefail
dsproxy=$(realpath "${1:?usage: cert_cli_test.sh PATH/TO/dsproxy}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

passed=0 failed=0
ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect() {  # expect DESCRIPTION COMMAND...  (command must succeed)
    local what=$1; shift
    if "$@" >"$work/out" 2>"$work/err"; then ok; else fail "$what: $(cat "$work/err")"; fi
}
mode_of() { stat -c %a "$1"; }

mkdir store
# --- request: the seed's first example ---------------------------------------
expect "request" "$dsproxy" cert request --store store --subject "C=US, O=Contoso Corp, CN=mail1.contoso.com" \
    --include-accepted-domains --accepted-domain contoso.com --accepted-domain fabrikam.com
csr=store/mail1.contoso.com.csr
expect "csr verifies" openssl req -in "$csr" -verify -noout
subject=$(openssl req -in "$csr" -noout -subject -nameopt RFC2253)
[ "$subject" = "subject=CN=mail1.contoso.com,O=Contoso Corp,C=US" ] && ok || fail "csr subject: $subject"
sans=$(openssl req -in "$csr" -noout -text | grep -o 'DNS:[^,]*' | tr '\n' ' ')
[ "$sans" = "DNS:mail1.contoso.com DNS:contoso.com DNS:fabrikam.com " ] && ok || fail "csr SANs: $sans"
[ "$(mode_of store/mail1.contoso.com.key)" = 600 ] && ok || fail "key mode $(mode_of store/mail1.contoso.com.key)"
openssl req -in "$csr" -noout -text | grep -q 'Public-Key: (2048 bit)' && ok || fail "default key is not rsa:2048"

# --- wildcard request, DER, EC key ----------------------------------------------
expect "wildcard der request" "$dsproxy" cert request --store store --subject "C=us, O=contoso corp" \
    --domain '*.contoso.com' --der --key-type ec:p256
expect "der csr verifies" openssl req -inform DER -in store/wildcard.contoso.com.req -verify -noout
openssl req -inform DER -in store/wildcard.contoso.com.req -noout -text | grep -q 'DNS:\*.contoso.com' && ok \
    || fail "wildcard SAN missing"

# --- refusals -------------------------------------------------------------------
refuse() {  # refuse DESCRIPTION EXPECTED-TEXT ARGS...
    local what=$1 text=$2; shift 2
    "$dsproxy" cert request --store store "$@" >/dev/null 2>"$work/err"; local rc=$?
    if [ "$rc" = 2 ] && grep -q -- "$text" "$work/err"; then ok; else fail "$what: exit $rc, $(cat "$work/err")"; fi
}
refuse "long CN"   "put it in the subject alternative name" --subject "CN=$(printf 'a%.0s' {1..70}).contoso.com"
refuse "country"   "ISO 3166-1"                          --subject "C=USA, CN=mail.contoso.com"
refuse "partial wildcard" "cannot be a DNS name"         --subject "CN=mail.contoso.com" --domain 'm*.contoso.com'
refuse "no name"   "give --subject"
"$dsproxy" cert request --store store --subject "CN=mail.contoso.com" --key-out store/mail1.contoso.com.key \
    >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "already exists" "$work/err" && ok || fail "existing key overwritten? $(cat "$work/err")"
"$dsproxy" cert request --store store --subject "CN=ma$(printf '\xc3\xaf')l.contoso.com" --domain mail.contoso.com \
    --out lookalike.csr --key-out lookalike.key >/dev/null 2>"$work/err"
grep -q "non-ASCII" "$work/err" && ok || fail "look-alike CN not warned"

# --- selfsigned: 365 days by default --------------------------------------------
expect "selfsigned" "$dsproxy" cert selfsigned --store store --fqdn mx.contoso.com --key-type ec:p256
start=$(date -d "$(openssl x509 -in store/mx.contoso.com.pem -noout -startdate | cut -d= -f2)" +%s)
end=$(date -d "$(openssl x509 -in store/mx.contoso.com.pem -noout -enddate | cut -d= -f2)" +%s)
[ $(( (end - start) / 86400 )) = 365 ] && ok || fail "selfsigned validity $(( (end - start) / 86400 )) days"
expect "selfsigned verifies against itself" openssl verify -CAfile store/mx.contoso.com.pem store/mx.contoso.com.pem
[ "$(mode_of store/mx.contoso.com.key)" = 600 ] && ok || fail "selfsigned key mode"

# --- a test CA (openssl CLI) signs the request; import round trip ----------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 30 \
    -subj "/CN=Test CA" 2>/dev/null
openssl x509 -req -in "$csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -copy_extensions copy \
    -out issued.pem 2>/dev/null || fail "CA could not sign the request"
cat issued.pem ca.pem > bundle.pem
expect "import PEM" "$dsproxy" cert import bundle.pem --store store
[ -f store/mail1.contoso.com.pem ] && ok || fail "imported certificate not next to its key"
thumb=$(openssl x509 -in issued.pem -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
grep -q "$thumb" "$work/out" && ok || fail "import did not print the thumbprint $thumb"
expect "imported pair matches" bash -c "[ \"\$(openssl x509 -in store/mail1.contoso.com.pem -noout -pubkey)\" = \"\$(openssl pkey -in store/mail1.contoso.com.key -pubout)\" ]"
openssl x509 -in issued.pem -outform DER -out issued.der
expect "import DER" "$dsproxy" cert import issued.der --store store
openssl crl2pkcs7 -nocrl -certfile bundle.pem -outform DER -out issued.p7b
expect "import PKCS#7" "$dsproxy" cert import issued.p7b --store store
[ "$(grep -c 'BEGIN CERTIFICATE' store/mail1.contoso.com.pem)" = 2 ] && ok || fail "p7b chain not kept"
"$dsproxy" cert import ca.pem --store store >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "no private key" "$work/err" && ok || fail "import without key accepted: $(cat "$work/err")"

# --- list / show -----------------------------------------------------------------
expect "list" "$dsproxy" cert list --store store --ca-file ca.pem --fqdn mail1.contoso.com
grep -q "Thumbprint:  $thumb" "$work/out" && ok || fail "list lacks the thumbprint"
grep -q "Served for:  mail1.contoso.com" "$work/out" && ok || fail "list lacks 'Served for'"
# Every field of the issued certificate's entry, against what openssl says of it.
entry=$(awk -v t="$thumb" '/^Thumbprint:/ { show = ($2 == t) } show' "$work/out")
sha256=$(openssl x509 -in issued.pem -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)
nb=$(date -u -d "$(openssl x509 -in issued.pem -noout -startdate | cut -d= -f2)" "+%Y-%m-%d %H:%M:%S UTC")
na=$(date -u -d "$(openssl x509 -in issued.pem -noout -enddate | cut -d= -f2)" "+%Y-%m-%d %H:%M:%S UTC")
for line in "SHA256:      $sha256" "Subject:     CN=mail1.contoso.com,O=Contoso Corp,C=US" \
            "DNS names:   mail1.contoso.com, contoso.com, fabrikam.com" "NotBefore:   $nb" "NotAfter:    $na" \
            "Issuer:      CN=Test CA" "Self-signed: no" "Key type:    rsa:2048"; do
    grep -qxF "$line" <<<"$entry" && ok || fail "list: expected the line '$line' in: $entry"
done
"$dsproxy" cert selfsigned --store store --subject "CN=mail1.contoso.com" --key-out store/second.key \
    --out store/second.pem >/dev/null 2>&1
expect "list --domain" "$dsproxy" cert list --store store --ca-file ca.pem --domain mail1.contoso.com
first=$(grep -m1 '^Thumbprint' "$work/out" | awk '{print $2}')
[ "$first" = "$thumb" ] && ok || fail "CA-issued certificate not first in selection order"
grep -q "^#2  exact name, valid, self-signed" "$work/out" && ok || fail "self-signed not second: $(cat "$work/out")"
expect "show by thumbprint" "$dsproxy" cert show "$thumb" --store store
grep -q "Issuer:      CN=Test CA" "$work/out" && ok || fail "show: issuer"
expect "show file" "$dsproxy" cert show issued.p7b
"$dsproxy" cert list --store store --domain nothing.example >/dev/null 2>&1
[ $? = 1 ] && ok || fail "list --domain without candidates should exit 1"

# --- accepted domains from the configuration (docs/design.md §4.2 --include-accepted-domains) ---
mkdir -p cfg/certs
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > cfg/dsproxy.yaml <<YAML
process: {allow_root: true}  # the test runs as whoever runs it, root included
listeners:
  edge:
    role: inbound
    listen: ["127.0.0.1:$port"]
    fqdn: mail1.contoso.com
    upstream: backend
upstreams:
  backend:
    hosts: ["127.0.0.1:2598"]
accepted_domains: [contoso.com, fabrikam.com]
certificates:
  directories: [certs]
YAML
expect "request from config" "$dsproxy" cert request --store store -c cfg/dsproxy.yaml --include-accepted-domains \
    --key-out store/fromcfg.key --out store/fromcfg.csr
openssl req -in store/fromcfg.csr -noout -text > "$work/csrtext"
for name in DNS:contoso.com DNS:fabrikam.com DNS:mail1.contoso.com "CN *= *mail1.contoso.com"; do
    grep -Eq "$name" "$work/csrtext" && ok || fail "request from config lacks $name"
done
"$dsproxy" cert request --store store -c cfg/missing.yaml --include-accepted-domains >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "accepted domains" "$work/err" && ok || fail "missing config not refused: $(cat "$work/err")"

# --- import --listener pins the certificate (docs/design.md §4.2) and dsproxy run serves it ---
# In cfg/certs: a CA-issued certificate for the listener's fqdn (the CA is not
# in the trust store, so it ranks below a valid self-signed one) and a newer
# self-signed one. Without the pin the self-signed is served; with it, the
# imported one.
expect "request in the config's store" "$dsproxy" cert request --store cfg/certs -c cfg/dsproxy.yaml
openssl x509 -req -in cfg/certs/mail1.contoso.com.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
    -copy_extensions copy -out cfg-issued.pem 2>/dev/null
sleep 1  # a strictly newer NotBefore for the self-signed one
expect "newer self-signed" "$dsproxy" cert selfsigned --store cfg/certs --fqdn mail1.contoso.com \
    --key-out cfg/certs/self.key --out cfg/certs/self.pem
expect "import --listener" "$dsproxy" cert import cfg-issued.pem --store cfg/certs --listener edge -c cfg/dsproxy.yaml
want=$(openssl x509 -in cfg-issued.pem -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)
[ "$(tr -d '[:space:]' < cfg/certs/pins/edge.pin)" = "$want" ] && ok || fail "pin file does not hold the SHA-256 thumbprint"
grep -q "pinned:      listener edge" "$work/out" && ok || fail "import --listener did not say it pinned"
"$dsproxy" cert import cfg-issued.pem --store cfg/certs --listener nosuch -c cfg/dsproxy.yaml >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "no listener" "$work/err" && ok || fail "unknown listener accepted: $(cat "$work/err")"
expect "list -c" "$dsproxy" cert list --store cfg/certs -c cfg/dsproxy.yaml
# The pin decides, as in dsproxy run: the imported certificate is served, the
# newer self-signed one is not.
served_for() {  # the "Served for" line of the certificate with SHA-256 $1 in "list" output
    awk -v want="$1" '/^SHA256:/ { gsub(/[: ]/, "", $2); cur = toupper($2) } /^Served for:/ && cur == want { sub(/^Served for: +/, ""); print }' "$work/out"
}
[ "$(served_for "$want")" = "listener edge (mail1.contoso.com)" ] && ok \
    || fail "list -c does not name the pinned certificate as served: $(cat "$work/out")"
self_fp=$(openssl x509 -in cfg/certs/self.pem -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)
[ "$(served_for "$self_fp")" = "(none)" ] && ok || fail "list -c says the unpinned self-signed certificate is served"
served() {
    "$dsproxy" run -c cfg/dsproxy.yaml > "$work/run.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 50); do
        (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break
        sleep 0.1
    done
    echo QUIT | timeout 10 openssl s_client -starttls smtp -connect "127.0.0.1:$port" 2>/dev/null \
        | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :
    kill -TERM "$pid"; wait "$pid" 2>/dev/null
}
[ "$(served)" = "$want" ] && ok || fail "dsproxy run does not serve the pinned certificate: $(cat "$work/run.log")"
grep -q "certificate pinned by" "$work/run.log" && ok || fail "run does not log the pin"
rm cfg/certs/pins/edge.pin
self=$(openssl x509 -in cfg/certs/self.pem -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)
[ "$(served)" = "$self" ] && ok || fail "without the pin the newer self-signed certificate should be served"

echo "cert_cli: $passed passed, $failed failed"
[ "$failed" = 0 ]
