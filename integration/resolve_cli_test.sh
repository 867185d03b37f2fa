#!/usr/bin/env bash
# resolve_cli_test — outbound routing against a real DNS server (docs/design.md §1,
# RFC 5321 §5.1, RFC 7505): dnsmasq from Debian serves a test zone on
# 127.0.0.1 at a random high port, and `dsproxy resolve` (the libunbound
# resolver plus the route planner, as the engine runs them) must find MX
# hosts by preference, the implicit MX, the null MX, NXDOMAIN, CNAME'd MX
# targets, the record and host caps (the 70-record answer also forces
# the resolver's TCP retry), static routes and address literals. dnsmasq
# does not sign its zone, so answers are checked without DNSSEC
# (--no-dnssec: every answer insecure; dane_test.py has the signed zones).
# dns_stub.py supplies the servers that time out, SERVFAIL or REFUSE. Only
# 127.0.0.1 is contacted.
set -uo pipefail
dsproxy=${1:?usage: resolve_cli_test.sh PATH/TO/dsproxy}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
if [ ! -x "$dnsmasq" ]; then
    echo "FAIL: dnsmasq not found (scripts/install-deps.sh test installs dnsmasq-base)"
    exit 1
fi

# --- the test zone ------------------------------------------------------------
zone=(
    --mx-host=example.test,mx2.example.test,20 --mx-host=example.test,mx1.example.test,10
    --mx-host=example.test,mx3.example.test,20
    --host-record=mx1.example.test,127.0.0.2,::2 --host-record=mx2.example.test,127.0.0.3
    --host-record=mx3.example.test,127.0.0.4
    --host-record=implicit.test,127.0.0.5
    --mx-host=nullmx.test,.,0
    --mx-host=numeric.test,127.0.0.9,10
    --mx-host=dangling.test,gone.test,10
    --txt-record=empty.test,nothing
    --mx-host=cname.test,alias.test,10 --cname=alias.test,mx1.example.test
    --host-record=relay.test,127.0.0.6
    --host-record=v4only.test,127.0.0.7,::7 --host-record=v6only.test,127.0.0.8,::8
)
for i in $(seq 1 7); do zone+=(--mx-host=manymx.test,mx1.example.test,$((i * 10))); done
for i in $(seq 1 7); do zone+=(--mx-host=manymx.test,h$i.manymx.test,$((i * 10)) --host-record=h$i.manymx.test,127.0.2.$i); done
for i in $(seq 1 70); do zone+=(--host-record=many.test,127.0.1.$i); done

user=()
[ "$(id -u)" = 0 ] && user=(--user=root)  # root: keep it, no switch to nobody
port=""
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    try=$((20000 + RANDOM % 40000))
    "$dnsmasq" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --pid-file= "${user[@]}" \
        --listen-address=127.0.0.1 --bind-interfaces --port="$try" --local=/test/ \
        --log-queries --log-facility="$work/dnsmasq.log" "${zone[@]}" 2>"$work/dnsmasq.err" &
    pid=$!
    for _ in $(seq 1 50); do
        if "$dsproxy" resolve --no-dnssec mx1.example.test --query host --server "127.0.0.1:$try" \
            --timeout-ms 200 --tries 1 >/dev/null 2>&1; then port=$try; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -n "$port" ]; then pids+=("$pid"); break; fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
done
if [ -z "$port" ]; then
    echo "FAIL: dnsmasq did not start: $(cat "$work/dnsmasq.err")"
    exit 1
fi
dns="127.0.0.1:$port"

passed=0 failed=0
# check DESCRIPTION EXPECTED_EXIT EXPECTED_STDOUT_REGEX -- ARGS...
check() {
    local what=$1 want_rc=$2 want=$3; shift 4
    local out rc
    out=$("$dsproxy" resolve --no-dnssec "$@" 2>"$work/stderr"); rc=$?
    if [ "$rc" = "$want_rc" ] && grep -Eq -- "$want" <<<"$out"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $what: exit $rc (want $want_rc); stdout: $out (want /$want/); stderr: $(cat "$work/stderr")"
    fi
}
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

q=(--server "$dns" --timeout-ms 2000 --tries 1)

# --- MX by preference, both families, equal preferences shuffled --------------
out=$("$dsproxy" resolve --no-dnssec example.test "${q[@]}" --seed 1)
first=$(printf '%s\n' "$out" | head -n 1)
[ "$first" = "hop mx1.example.test:25 mx 10 ::2,127.0.0.2" ] && ok || bad "mx order: $out"
[ "$(printf '%s\n' "$out" | sed -n '2,3p' | awk '{print $2, $4}' | sort | tr '\n' ' ')" = \
  "mx2.example.test:25 20 mx3.example.test:25 20 " ] && ok || bad "mx ties: $out"
check "ipv4-first order" 0 '^hop mx1.example.test:25 mx 10 127.0.0.2,::2$' -- example.test "${q[@]}" --order ipv4-first
check "ipv6-only drops v4-only hosts" 0 '^hop mx1.example.test:25 mx 10 ::2$' -- example.test "${q[@]}" --order ipv6-only
check "port for MX delivery" 0 '^hop mx1.example.test:2525 ' -- example.test "${q[@]}" --port 2525
orders=""
for seed in $(seq 1 16); do
    orders+=$("$dsproxy" resolve --no-dnssec example.test "${q[@]}" --seed "$seed" | sed -n 2p | awk '{print $2}')$'\n'
done
[ "$(printf '%s' "$orders" | sort -u | wc -l)" = 2 ] && ok || bad "equal preferences never shuffled: $orders"

# --- RFC 5321 §5.1 and RFC 7505 rules --------------------------------------------
check "implicit MX"         0 '^hop implicit.test:25 implicit-mx 0 127.0.0.5$' -- implicit.test "${q[@]}"
check "null MX"             1 '^fail 556 5.1.10 '  -- nullmx.test "${q[@]}"
check "null MX raw record"  0 '^record 0 $'        -- nullmx.test "${q[@]}" --query mx
check "NXDOMAIN"            1 '^fail 550 5.1.2 '   -- nope.test "${q[@]}"
check "NXDOMAIN raw"        1 '^mx nope.test nxdomain 0 insecure$' -- nope.test "${q[@]}" --query mx
check "numeric MX dropped"  1 '^fail 451 4.4.4 '   -- numeric.test "${q[@]}"
check "MX host unresolvable" 1 '^fail 451 4.4.4 '  -- dangling.test "${q[@]}"
check "no MX, no address"   1 '^fail 550 5.4.4 '   -- empty.test "${q[@]}"
check "MX target is a CNAME" 0 '^hop alias.test:25 mx 10 ::2,127.0.0.2$' -- cname.test "${q[@]}"
check "address literal"     0 '^hop 127.0.0.1:25 address-literal 0 127.0.0.1$' -- '[127.0.0.1]' "${q[@]}"
check "invalid domain"      1 '^fail 501 5.1.3 '   -- 'bad_name.test' "${q[@]}"

# --- address_order: an *-only order never asks for the other family (issue 15) ---
# dnsmasq's query log shows what reached the server.
check "ipv4-only" 0 '^hop v4only.test:25 implicit-mx 0 127.0.0.7$' -- v4only.test "${q[@]}" --order ipv4-only
check "ipv6-only" 0 '^hop v6only.test:25 implicit-mx 0 ::8$' -- v6only.test "${q[@]}" --order ipv6-only
for _ in $(seq 1 50); do grep -q 'query\[AAAA\] v6only.test' "$work/dnsmasq.log" && break; sleep 0.1; done
grep -q 'query\[A\] v4only.test ' "$work/dnsmasq.log" && ! grep -q 'query\[AAAA\] v4only.test ' "$work/dnsmasq.log" \
    && ok || bad "ipv4-only: the server saw $(grep v4only "$work/dnsmasq.log" | sed 's/.*query/query/' | tr '\n' ' ')"
grep -q 'query\[AAAA\] v6only.test ' "$work/dnsmasq.log" && ! grep -q 'query\[A\] v6only.test ' "$work/dnsmasq.log" \
    && ok || bad "ipv6-only: the server saw $(grep v6only "$work/dnsmasq.log" | sed 's/.*query/query/' | tr '\n' ' ')"

# --- limits ------------------------------------------------------------------------
check "70 A records capped at 64 (TCP retry)" 0 '^host many.test ok 64 insecure$' -- many.test "${q[@]}" --query host
check "addresses per host capped" 0 '^hop many.test:25 implicit-mx 0 ([0-9.]+,){3}[0-9.]+$' -- many.test "${q[@]}"
out=$("$dsproxy" resolve --no-dnssec manymx.test "${q[@]}" --max-mx-hosts 3)
[ "$(printf '%s\n' "$out" | grep -c '^hop ')" = 3 ] && grep -q '^note .* beyond the limit of 3 ignored$' <<<"$out" \
    && ok || bad "max MX hosts: $out"

# --- static routes (policy `route`) ------------------------------------------------
out=$("$dsproxy" resolve --no-dnssec partner.test "${q[@]}" --route relay.test:2526 --route 127.0.0.9)
[ "$out" = $'hop relay.test:2526 static 0 127.0.0.6\nhop 127.0.0.9:25 static 1 127.0.0.9' ] && ok || bad "static route: $out"
check "static route, bad entry" 2 '' -- partner.test "${q[@]}" --route '[relay.test]:25'

# --- failing servers: temporary, never a bounce ------------------------------------
start_stub() {  # start_stub MODE -> sets stub_port
    python3 "$here/dns_stub.py" "$1" >"$work/stub.$1" &
    pids+=($!)
    for _ in $(seq 1 50); do
        stub_port=$(head -n 1 "$work/stub.$1" 2>/dev/null)
        [ -n "$stub_port" ] && return 0
        sleep 0.1
    done
    bad "dns_stub $1 did not start"
}
start_stub silent;   silent=$stub_port
start_stub servfail; servfail=$stub_port
start_stub refused;  refused=$stub_port

t0=$(date +%s%N)
check "timeout"  1 '^fail 451 4.4.3 .*\(timeout\)' -- example.test --server "127.0.0.1:$silent" --timeout-ms 300 --tries 1
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 3000 ] && ok || bad "timeout took $(( (t1 - t0) / 1000000 )) ms"
# The resolver fails over to the next server on SERVFAIL/REFUSED (as glibc
# does) and, when every server failed, reports SERVFAIL whichever rcode it was.
check "SERVFAIL" 1 '^fail 451 4.4.3 .*\(servfail\)' -- example.test --server "127.0.0.1:$servfail" --timeout-ms 1000 --tries 1
check "REFUSED"  1 '^fail 451 4.4.3 .*\((refused|servfail)\)'  -- example.test --server "127.0.0.1:$refused" --timeout-ms 1000 --tries 1
check "SERVFAIL on the address lookup" 1 '^host h.test servfail 0 failure$' -- h.test --query host --server "127.0.0.1:$servfail" --timeout-ms 1000 --tries 1
check "SERVFAIL, then the next server answers" 0 '^hop mx1.example.test:25 mx 10 ' -- example.test --server "127.0.0.1:$servfail" --server "$dns" --timeout-ms 1000 --tries 1
check "REFUSED, then the next server answers"  0 '^hop mx1.example.test:25 mx 10 ' -- example.test --server "127.0.0.1:$refused" --server "$dns" --timeout-ms 1000 --tries 1
# A server never heard from gets about 0.4 s before the next one is asked;
# a timeout it causes may also be retried on it (EDNS fallback), so 5 s.
check "timeout, then the next server answers"  0 '^hop mx1.example.test:25 mx 10 ' -- example.test --server "127.0.0.1:$silent" --server "$dns" --timeout-ms 5000 --tries 1
closed=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
check "nothing listening" 1 '^fail 451 4.4.3 ' -- example.test --server "127.0.0.1:$closed" --timeout-ms 300 --tries 1

# --- the session deadline cancels a lookup at once ---------------------------------
t0=$(date +%s%N)
check "deadline cancels" 1 '^deadline 200ms$' -- example.test --server "127.0.0.1:$silent" --timeout-ms 5000 --tries 1 --deadline-ms 200
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 2000 ] && ok || bad "cancelled lookup took $(( (t1 - t0) / 1000000 )) ms"

# --- usage ---------------------------------------------------------------------------
check "bad server list" 2 '' -- example.test --server 'not-an-address'

echo "resolve_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
