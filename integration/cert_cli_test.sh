#!/usr/bin/env bash
# cert_cli_test — `dsproxy cert` as an administrator uses it (docs/design.md §4.2),
# checked with the openssl command line: a request verifies and carries the
# subject and SANs asked for; selfsigned is valid 365 days; a CA made here
# signs the request and `import` installs it next to its key (PEM, DER and
# PKCS#7); keys are mode 0600; refusals exit 2 with a reason. Issue 19: every
# command writes all its files or none; PKCS#12 (.pfx) in with its password
# from a file, and out again for Windows; a certificate with its own key file
# (certbot's fullchain.pem + privkey.pem).
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
# Without a name, a configuration or a machine FQDN (a host name without a dot, in a
# private UTS namespace when this runs as root; this machine's own otherwise).
if unshare -u true 2>/dev/null; then
    unshare -u bash -c 'hostname nodot && exec "$0" cert request --store store' "$dsproxy" >/dev/null 2>"$work/err"
    [ $? = 2 ] && grep -q "give --subject" "$work/err" && ok || fail "no name: $(cat "$work/err")"
else
    refuse "no name"   "give --subject"
fi
# issue 19 item 4: public suffixes, a second wildcard, control characters
refuse "wildcard over a public suffix" "public suffix com" --subject "CN=mail.contoso.com" --domain '*.com'
refuse "public suffix as a name" "is a public suffix" --subject "CN=mail.contoso.com" --domain 'co.uk'
refuse "two wildcards" "'\*\.\*\.contoso\.com' cannot be a DNS name" --subject "CN=mail.contoso.com" --domain '*.*.contoso.com'
refuse "tab in the subject" "control character" --subject "$(printf 'O=Contoso\tCorp, CN=mail.contoso.com')"
[ ! -e store/mail.contoso.com.key ] && ok || fail "a refused request left a key"
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
openssl x509 -req -in "$csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 29 -copy_extensions copy \
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
            "DNS names:   mail1.contoso.com, contoso.com, fabrikam.com" "NotBefore:   $nb" \
            "Issuer:      CN=Test CA" "Self-signed: no" "Key type:    rsa:2048"; do
    grep -qxF "$line" <<<"$entry" && ok || fail "list: expected the line '$line' in: $entry"
done
# The test CA issued it for 29 days: list flags it (issue 19 item 6; 30 days exactly is the
# window's edge, not flagged, which a list in the same second as the signature would meet).
grep -qE "^NotAfter:    $na \(EXPIRES in (28|29) day\(s\): renew it\)$" <<<"$entry" && ok \
    || fail "list: a 29-day certificate not flagged: $entry"
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
inode=$(stat -c %i cfg/certs/mail1.contoso.com.pem)
"$dsproxy" cert import cfg-issued.pem --store cfg/certs --listener nosuch -c cfg/dsproxy.yaml >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "no listener" "$work/err" && ok || fail "unknown listener accepted: $(cat "$work/err")"
# Issue 19 item 3: refused before anything is written (an atomic write would give a new inode).
[ "$(stat -c %i cfg/certs/mail1.contoso.com.pem)" = "$inode" ] && ok || fail "import --listener nosuch wrote the certificate"
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

# --- issue 19 item 3: all files or none ---------------------------------------------
mkdir atomic
"$dsproxy" cert request --store atomic --fqdn retry.contoso.com --out atomic/no/such/dir.csr >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "nothing written" "$work/err" && ok || fail "request into a missing directory: $(cat "$work/err")"
[ -z "$(ls -A atomic)" ] && ok || fail "a failed request left files behind: $(ls -A atomic)"
expect "request retried" "$dsproxy" cert request --store atomic --fqdn retry.contoso.com
[ "$(ls atomic)" = "$(printf 'retry.contoso.com.csr\nretry.contoso.com.key')" ] && ok || fail "retry: $(ls -A atomic)"
expect "retried request verifies" openssl req -in atomic/retry.contoso.com.csr -verify -noout
# A leaf-only re-import would drop the intermediate the store's file has.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem -days 30 \
    -subj "/CN=Chain Root" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout inter.key -out inter.csr \
    -subj "/CN=Chain Intermediate" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' > ca.ext
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial -days 30 -extfile ca.ext \
    -out inter.pem 2>/dev/null
openssl x509 -req -in atomic/retry.contoso.com.csr -CA inter.pem -CAkey inter.key -CAcreateserial -days 29 \
    -copy_extensions copy -out retry-leaf.pem 2>/dev/null
cat retry-leaf.pem inter.pem > retry-chain.pem
expect "import with chain" "$dsproxy" cert import retry-chain.pem --store atomic
inode=$(stat -c %i atomic/retry.contoso.com.pem)
"$dsproxy" cert import retry-leaf.pem --store atomic >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "CN=Chain Intermediate" "$work/err" && grep -q -- "--force" "$work/err" && ok \
    || fail "leaf-only re-import not refused: $(cat "$work/err")"
[ "$(stat -c %i atomic/retry.contoso.com.pem)" = "$inode" ] && ok || fail "refused re-import rewrote the file"
expect "chain still verifies" openssl verify -CAfile root.pem -untrusted atomic/retry.contoso.com.pem \
    atomic/retry.contoso.com.pem
expect "forced leaf-only re-import" "$dsproxy" cert import retry-leaf.pem --store atomic --force
grep -q "warning: --force: the chain certificate CN=Chain Intermediate" "$work/err" && ok || fail "--force: no warning"
[ "$(grep -c 'BEGIN CERTIFICATE' atomic/retry.contoso.com.pem)" = 1 ] && ok || fail "--force did not replace"
[ -z "$(find atomic -name '.*')" ] && ok || fail "temporaries left in the store: $(find atomic -name '.*')"

# --- issue 19 item 1: PKCS#12 from Exchange/Windows, and back -------------------------
mkdir pfx
openssl req -new -newkey rsa:2048 -nodes -keyout exch.key -out exch.csr -subj "/CN=mail2.contoso.com" \
    -addext "subjectAltName=DNS:mail2.contoso.com,DNS:autodiscover.contoso.com" 2>/dev/null
openssl x509 -req -in exch.csr -CA inter.pem -CAkey inter.key -CAcreateserial -days 30 -copy_extensions copy \
    -out exch.pem 2>/dev/null
printf 'P@ss w0rd\r\n' > pw.txt; chmod 600 pw.txt   # as Notepad saves it
cat inter.pem root.pem > exch-chain.pem
openssl pkcs12 -export -in exch.pem -inkey exch.key -certfile exch-chain.pem -name "Exchange 2019" \
    -passout pass:'P@ss w0rd' -out exch.pfx
expect "import pfx" "$dsproxy" cert import exch.pfx --store pfx --password-file pw.txt
grep -q "from PKCS#12" "$work/out" && ok || fail "import pfx: $(cat "$work/out")"
[ "$(mode_of pfx/mail2.contoso.com.pem)" = 600 ] && ok || fail "pfx import mode $(mode_of pfx/mail2.contoso.com.pem)"
[ "$(openssl x509 -in pfx/mail2.contoso.com.pem -noout -fingerprint -sha256)" = \
  "$(openssl x509 -in exch.pem -noout -fingerprint -sha256)" ] && ok || fail "pfx: not the leaf first"
[ "$(openssl x509 -in pfx/mail2.contoso.com.pem -noout -pubkey)" = "$(openssl pkey -in pfx/mail2.contoso.com.pem -pubout)" ] \
    && ok || fail "pfx: key and certificate do not match"
expect "pfx chain in order" openssl verify -CAfile root.pem -untrusted pfx/mail2.contoso.com.pem pfx/mail2.contoso.com.pem
[ "$(grep -c 'BEGIN CERTIFICATE' pfx/mail2.contoso.com.pem)" = 3 ] && ok || fail "pfx chain not kept"
expect "list pfx store" "$dsproxy" cert list --store pfx
grep -q "DNS names:   mail2.contoso.com, autodiscover.contoso.com" "$work/out" && ok || fail "pfx not in list"
# issue 19 item 6: the PKCS#12 friendly name is stored with it and listed
grep -qx "FriendlyName: Exchange 2019" "$work/out" && ok || fail "pfx friendly name not listed: $(cat "$work/out")"
mkdir named
expect "selfsigned --friendly-name" "$dsproxy" cert selfsigned --store named --fqdn named.contoso.com \
    --friendly-name "Contoso edge 2026"
expect "openssl reads the named file" openssl x509 -in named/named.contoso.com.pem -noout
expect "list named" "$dsproxy" cert list --store named
grep -qx "FriendlyName: Contoso edge 2026" "$work/out" && ok || fail "selfsigned friendly name not listed"
"$dsproxy" cert selfsigned --store named --fqdn tab.contoso.com --friendly-name "$(printf 'a\tb')" >/dev/null 2>"$work/err"
[ $? = 2 ] && [ ! -e named/tab.contoso.com.key ] && ok || fail "control character in a friendly name: $(cat "$work/err")"
printf 'wrong\n' > bad-pw.txt; chmod 600 bad-pw.txt
"$dsproxy" cert import exch.pfx --store pfx --password-file bad-pw.txt >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "wrong password" "$work/err" && ok || fail "wrong pfx password: $(cat "$work/err")"
setsid -w "$dsproxy" cert import exch.pfx --store pfx </dev/null >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q -- "--password-file" "$work/err" && ok || fail "pfx without password source: $(cat "$work/err")"
"$dsproxy" cert import exch.pfx --store pfx --password 'P@ss w0rd' >/dev/null 2>&1
[ $? != 0 ] && ok || fail "a password on the command line was accepted"
chmod 644 pw.txt
"$dsproxy" cert import exch.pfx --store pfx --password-file pw.txt >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "readable by others" "$work/err" && ok || fail "world-readable password file: $(cat "$work/err")"
chmod 600 pw.txt
# Older Windows exports (RC2-40/3DES): OpenSSL's legacy provider.
mkdir legacy
openssl pkcs12 -export -legacy -in exch.pem -inkey exch.key -certfile inter.pem -passout pass:old -out old.pfx
printf 'old\n' > old-pw.txt; chmod 600 old-pw.txt
expect "import legacy pfx" "$dsproxy" cert import old.pfx --store legacy --password-file old-pw.txt
[ "$(grep -c 'BEGIN CERTIFICATE' legacy/mail2.contoso.com.pem)" = 2 ] && ok || fail "legacy pfx chain"
# Export for Windows: openssl reads it back with the password.
printf 'Exp0rt!\n' > export-pw.txt; chmod 600 export-pw.txt
thumb2=$(openssl x509 -in exch.pem -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
expect "export pkcs12" "$dsproxy" cert export "$thumb2" --store pfx --pkcs12 --password-file export-pw.txt --out out.pfx
[ "$(mode_of out.pfx)" = 600 ] && ok || fail "exported pfx mode $(mode_of out.pfx)"
[ "$(openssl pkcs12 -in out.pfx -passin pass:Exp0rt! -nokeys -clcerts 2>/dev/null | openssl x509 -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)" = "$thumb2" ] \
    && ok || fail "exported pfx: not the certificate"
[ "$(openssl pkcs12 -in out.pfx -passin pass:Exp0rt! -nokeys -cacerts 2>/dev/null | grep -c 'BEGIN CERTIFICATE')" = 2 ] \
    && ok || fail "exported pfx: chain missing"
[ "$(openssl pkcs12 -in out.pfx -passin pass:Exp0rt! -nocerts -nodes 2>/dev/null | openssl pkey -pubout)" = "$(openssl pkey -in exch.key -pubout)" ] \
    && ok || fail "exported pfx: not the key"
openssl pkcs12 -in out.pfx -passin pass:Exp0rt! -info -noout 2>&1 | grep -q "AES-256-CBC" && ok || fail "exported pfx not AES-256"
openssl pkcs12 -in out.pfx -passin pass:Exp0rt! -nokeys -clcerts 2>/dev/null | grep -q "friendlyName: Exchange 2019" \
    && ok || fail "exported pfx: the friendly name is not kept"
"$dsproxy" cert export "$thumb2" --store pfx --pkcs12 --password-file export-pw.txt --out out.pfx >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "already exists" "$work/err" && ok || fail "export overwrote: $(cat "$work/err")"
expect "export pem" "$dsproxy" cert export pfx/mail2.contoso.com.pem --store pfx --out out-chain.pem
[ "$(grep -c 'BEGIN CERTIFICATE' out-chain.pem)" = 3 ] && ! grep -q "PRIVATE KEY" out-chain.pem && ok \
    || fail "pem export: chain without the key expected"
# The exported file comes back in: the same certificate.
mkdir roundtrip
expect "re-import the export" "$dsproxy" cert import out.pfx --store roundtrip --password-file export-pw.txt
grep -q "Thumbprint:  $thumb2" "$work/out" && ok || fail "round trip changed the certificate"

# --- issue 19 item 2: certificate and key made elsewhere (certbot's live/ directory) -----
mkdir -p live/mx.fabrikam.com le-store
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout live/mx.fabrikam.com/privkey.pem \
    -out le.csr -subj "/CN=mx.fabrikam.com" -addext "subjectAltName=DNS:mx.fabrikam.com" 2>/dev/null
openssl x509 -req -in le.csr -CA inter.pem -CAkey inter.key -CAcreateserial -days 30 -copy_extensions copy \
    -out le-cert.pem 2>/dev/null
cat le-cert.pem inter.pem > live/mx.fabrikam.com/fullchain.pem
"$dsproxy" cert import live/mx.fabrikam.com/fullchain.pem --store le-store >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q -- "--key FILE" "$work/err" && ok || fail "import without --key: $(cat "$work/err")"
expect "import --key" "$dsproxy" cert import live/mx.fabrikam.com/fullchain.pem --key live/mx.fabrikam.com/privkey.pem \
    --store le-store
[ "$(mode_of le-store/mx.fabrikam.com.pem)" = 600 ] && ok || fail "--key import mode"
[ "$(openssl x509 -in le-store/mx.fabrikam.com.pem -noout -pubkey)" = "$(openssl pkey -in le-store/mx.fabrikam.com.pem -pubout)" ] \
    && ok || fail "--key import: key and certificate differ"
expect "--key import chain verifies" openssl verify -CAfile root.pem -untrusted le-store/mx.fabrikam.com.pem \
    le-store/mx.fabrikam.com.pem
"$dsproxy" cert import live/mx.fabrikam.com/fullchain.pem --key exch.key --store le-store >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "belongs to none" "$work/err" && ok || fail "--key with the wrong key: $(cat "$work/err")"

# --- issue 19 item 5: --from a thumbprint, the key type carried over -------------------
mx_sha1=$(openssl x509 -in store/mx.contoso.com.pem -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
mx_sha256=$(openssl x509 -in store/mx.contoso.com.pem -noout -fingerprint -sha256 | cut -d= -f2)  # with colons, as openssl prints it
expect "clone by SHA-1 thumbprint" "$dsproxy" cert request --store store --from "$mx_sha1" \
    --key-out clone1.key --out clone1.csr
openssl req -in clone1.csr -noout -text > "$work/csrtext"
grep -q "ASN1 OID: prime256v1" "$work/csrtext" && ok || fail "an ECDSA source did not give an ECDSA clone"
grep -q "DNS:mx.contoso.com" "$work/csrtext" && ok || fail "clone lacks the source's names"
expect "clone by SHA-256 thumbprint, --key-type wins" "$dsproxy" cert request --store store --from "$mx_sha256" \
    --key-type rsa:3072 --key-out clone2.key --out clone2.csr
openssl req -in clone2.csr -noout -text | grep -q "Public-Key: (3072 bit)" && ok || fail "--key-type did not win over the clone's"
"$dsproxy" cert request --store store --from 0000000000000000000000000000000000000000 --key-out c3.key --out c3.csr \
    >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "no certificate with thumbprint" "$work/err" && [ ! -e c3.key ] && ok \
    || fail "unknown thumbprint: $(cat "$work/err")"

# --- issue 19 item 6: Exchange's list syntax; list says what expires within 30 days ------
expect "--domain a,b" "$dsproxy" cert request --store store --fqdn list.contoso.com \
    --domain autodiscover.contoso.com,smtp.contoso.com --key-out list.key --out list.csr
sans=$(openssl req -in list.csr -noout -text | grep -o 'DNS:[^,]*' | tr '\n' ' ')
[ "$sans" = "DNS:list.contoso.com DNS:autodiscover.contoso.com DNS:smtp.contoso.com " ] && ok || fail "--domain a,b: $sans"
# Without --subject, --fqdn, --from or -c: the configuration in the working directory's
# conf.d, else the machine's FQDN (Exchange's default CN is the server's FQDN).
mkdir -p defaults/conf.d
cat >defaults/conf.d/dsproxy.yaml <<'EOF'
listeners:
  edge: {role: inbound, listen: ["127.0.0.1:2596"], fqdn: mx.defaults.contoso.com, upstream: backend}
upstreams:
  backend: {hosts: ["127.0.0.1:2595"]}
accepted_domains: [contoso.com]
EOF
(cd defaults && "$dsproxy" cert request --store . --out cfg.csr --key-out cfg.key) >/dev/null 2>"$work/err" && ok \
    || fail "request from ./conf.d: $(cat "$work/err")"
openssl req -in defaults/cfg.csr -noout -subject 2>/dev/null | grep -q "CN *= *mx.defaults.contoso.com" && ok \
    || fail "CN not the configuration's listener fqdn: $(openssl req -in defaults/cfg.csr -noout -subject)"
if unshare -u true 2>/dev/null; then
    unshare -u bash -c 'hostname mx1.fabrikam.example && exec "$0" cert request --store defaults --out defaults/host.csr \
        --key-out defaults/host.key' "$dsproxy" >/dev/null 2>"$work/err" && ok || fail "request by host name: $(cat "$work/err")"
    grep -q "the CN is this machine's FQDN, mx1.fabrikam.example" "$work/err" && ok || fail "no note: $(cat "$work/err")"
    openssl req -in defaults/host.csr -noout -subject 2>/dev/null | grep -q "CN *= *mx1.fabrikam.example" && ok \
        || fail "CN not the machine's FQDN: $(openssl req -in defaults/host.csr -noout -subject)"
    openssl req -in defaults/host.csr -noout -text | grep -q "DNS:mx1.fabrikam.example" && ok || fail "host name not in the SAN"
fi
mkdir soon
expect "short-lived certificate" "$dsproxy" cert selfsigned --store soon --fqdn soon.contoso.com --days 10
expect "list soon" "$dsproxy" cert list --store soon
grep -Eq "^NotAfter: .* \(EXPIRES in (9|10) day\(s\): renew it\)$" "$work/out" && ok || fail "list does not flag expiry: $(cat "$work/out")"
expect "list two stores" "$dsproxy" cert list --store soon --store atomic  # retry.contoso.com: 29 days, flagged too
[ "$(grep -c "EXPIRES in" "$work/out")" = 2 ] && ok || fail "list: expected two flagged: $(cat "$work/out")"
mkdir far
expect "a year's certificate" "$dsproxy" cert selfsigned --store far --fqdn far.contoso.com
expect "list far" "$dsproxy" cert list --store far
! grep -q "EXPIRES" "$work/out" && ok || fail "a 365-day certificate flagged: $(cat "$work/out")"

echo "cert_cli: $passed passed, $failed failed"
[ "$failed" = 0 ]
