#!/usr/bin/env bash
# match_cli_test — `dsproxy match` as an administrator runs it (docs/design.md §5):
# output line, exit codes (0 match, 1 nomatch, 2 usage/unreadable), --cert
# with certificates made here by the openssl command line, --explain, and
# every row of the public case table that can be written on a command line.
set -uo pipefail
dsproxy=${1:?usage: match_cli_test.sh PATH/TO/dsproxy}
here=$(cd "$(dirname "$0")" && pwd)
table="$here/../tests/matching/data/matching_public.tsv"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0
check() {  # check DESCRIPTION EXPECTED_EXIT EXPECTED_STDOUT -- ARGS...
    local what=$1 want_rc=$2 want_out=$3; shift 4
    local out rc
    out=$("$dsproxy" match "$@" 2>"$work/stderr" | head -n 1); rc=${PIPESTATUS[0]}
    if [ "$rc" = "$want_rc" ] && { [ -z "$want_out" ] || [ "$out" = "$want_out" ]; }; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $what: exit $rc (want $want_rc), stdout '$out' (want '$want_out'); stderr: $(cat "$work/stderr")"
    fi
}

# --- names on the command line: the seed's examples --------------------------
check "exact"          0 "match exact contoso.com"          -- --domain contoso.com --name contoso.com
check "wildcard"       0 "match wildcard *.contoso.com"     -- --domain contoso.com --name '*.contoso.com'
check "one-node-deep"  0 "match one-node-deep mail.contoso.com" -- --domain contoso.com --name mail.contoso.com
check "too deep"       1 "nomatch"                          -- --domain contoso.com --name mail.us.contoso.com
check "partial wildcard (Exchange would accept f*)" 1 "nomatch" -- --domain contoso.com --name 'f*.contoso.com'
check "strongest wins" 0 "match exact contoso.com"          -- --domain contoso.com --name mail.contoso.com --name contoso.com
check "host wildcard"  0 "match wildcard *.contoso.com"     -- --host mail.contoso.com --name '*.contoso.com'
check "host apex"      1 "nomatch"                          -- --host contoso.com --name '*.contoso.com'
check "cn no-san"      1 "nomatch"                          -- --domain contoso.com --name fabrikam.com --cn contoso.com
check "cn always"      0 "match exact contoso.com"          -- --domain contoso.com --name fabrikam.com --cn contoso.com --cn-fallback always
check "IDN reference"  0 "match exact xn--bcher-kva.de"     -- --domain bücher.de --name xn--bcher-kva.de
check "IDNA2008 faß"   1 "nomatch"                          -- --domain faß.de --name fass.de

# --- usage errors exit 2 -------------------------------------------------------
check "no reference"        2 "" -- --name contoso.com
check "no names"            2 "" -- --domain contoso.com
check "domain and host"     2 "" -- --domain a.com --host b.com --name a.com
check "bad cn-fallback"     2 "" -- --domain a.com --name a.com --cn-fallback never
check "invalid reference"   2 "" -- --domain 'contoso..com' --name contoso.com
check "unconvertible IDN"   2 "" -- --domain $'\xe2\x98\x95.de' --name xn--53h.de
check "cert and names"      2 "" -- --domain a.com --name a.com --cert /dev/null
check "missing cert file"   2 "" -- --domain a.com --cert "$work/nope.pem"
printf 'not a certificate\n' > "$work/junk.pem"
check "junk cert file"      2 "" -- --domain a.com --cert "$work/junk.pem"

# --- certificates made by openssl ----------------------------------------------
mkcert() {  # mkcert NAME SUBJECT [SAN]
    local args=(-utf8 -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1
                -keyout "$work/$1.key" -out "$work/$1.pem" -subj "$2")
    [ -n "${3:-}" ] && args+=(-addext "subjectAltName=$3")
    openssl req "${args[@]}" 2>/dev/null || { echo "FAIL: openssl could not make $1"; failed=$((failed + 1)); }
}
mkcert san "/CN=ignored.example" "DNS:fabrikam.com,DNS:mail.contoso.com,IP:192.0.2.1"
mkcert wild "/CN=Contoso" "DNS:*.contoso.com"
mkcert nosan "/O=Contoso/CN=contoso.com"
mkcert deep "/CN=x" "DNS:mail.us.contoso.com"
mkcert utf8cn "/CN=maïl.contoso.com"
openssl x509 -in "$work/san.pem" -outform DER -out "$work/san.der"

check "cert SAN one-node-deep" 0 "match one-node-deep mail.contoso.com" -- --domain contoso.com --cert "$work/san.pem"
check "cert DER"               0 "match one-node-deep mail.contoso.com" -- --domain contoso.com --cert "$work/san.der"
check "cert CN ignored"        1 "nomatch"                  -- --domain ignored.example --cert "$work/san.pem"
check "cert CN always"         0 "match exact ignored.example" -- --domain ignored.example --cert "$work/san.pem" --cn-fallback always
check "cert wildcard"          0 "match wildcard *.contoso.com" -- --domain contoso.com --cert "$work/wild.pem"
check "cert host wildcard"     0 "match wildcard *.contoso.com" -- --host smtp.contoso.com --cert "$work/wild.pem"
check "cert CN fallback"       0 "match exact contoso.com"  -- --domain contoso.com --cert "$work/nosan.pem"
check "cert too deep"          1 "nomatch"                  -- --domain contoso.com --cert "$work/deep.pem"
check "cert non-ASCII CN"      1 "nomatch"                  -- --domain contoso.com --cert "$work/utf8cn.pem"

# --explain names every presented name, including ignored ones and IP SANs.
explain=$("$dsproxy" match --domain contoso.com --cert "$work/san.pem" --explain)
for want in "match one-node-deep mail.contoso.com" "san fabrikam.com: no domain rule matches" \
            "san mail.contoso.com: matches by rule one-node-deep" "ip 192.0.2.1: ignored"; do
    if grep -qF -- "$want" <<<"$explain"; then passed=$((passed + 1)); else
        failed=$((failed + 1)); echo "FAIL: --explain lacks '$want':"; echo "$explain"; fi
done
explain=$("$dsproxy" match --domain contoso.com --cert "$work/utf8cn.pem" --explain)
if grep -qF "cn maïl.contoso.com: ignored, non-ASCII characters" <<<"$explain"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: --explain for a non-ASCII CN:"; echo "$explain"; fi

# --- the public table through the command line ---------------------------------
# Rows with NUL bytes cannot be command-line arguments; they are covered by the
# unit tests.
rows=0
while IFS=$'\t' read -r kind reference san cn mode expected rule note; do
    [ "$kind" = kind ] && continue
    case "$reference$san$cn" in *'\0'*) continue ;; esac
    args=("--$kind" "$reference" --cn-fallback "$mode")
    if [ "$san" != - ]; then
        IFS=, read -r -a entries <<<"$san"
        for e in "${entries[@]}"; do
            case "$e" in IP:*) ;; *) args+=(--name "$e") ;; esac
        done
    fi
    if [ "$cn" != - ]; then
        IFS='|' read -r -a entries <<<"$cn"
        for e in "${entries[@]}"; do args+=(--cn "$e"); done
    fi
    # A row whose only SAN is an IP has no names to pass: nothing can match.
    if [ "${#args[@]}" -eq 4 ]; then continue; fi
    rows=$((rows + 1))
    out=$("$dsproxy" match "${args[@]}" 2>/dev/null); rc=$?
    if [ "$expected" = match ]; then
        ok=$([ "$rc" = 0 ] && [ "${out%% *}" = match ] && [ "$(cut -d' ' -f2 <<<"$out")" = "$rule" ] && echo y)
    else
        ok=$({ [ "$rc" = 1 ] && [ "$out" = nomatch ]; } || [ "$rc" = 2 ] && echo y)
    fi
    if [ "$ok" = y ]; then passed=$((passed + 1)); else
        failed=$((failed + 1)); echo "FAIL: table row '$note': exit $rc, '$out'"; fi
done < "$table"
[ "$rows" -ge 70 ] || { failed=$((failed + 1)); echo "FAIL: only $rows table rows ran"; }

echo "match_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
