// next_hop_attempt — the decision of one transaction's search for a usable
// next hop, as a sans-I/O machine: which host to connect to next, whether a
// failed handshake is retried in plain text, when the TLS policy refuses the
// route, and when to give up (docs/design.md §5).
//
// Owns: the route's position (the host being tried, plain text or not), the
// combined TLS requirement, and the last policy failure (for the reply).
// Must not: do I/O, log, or look at text: every input is a value (a
// failure_kind, a certificate verdict), every answer an attempt_decision.
// The relay (relay_session) and `dsproxy probe` (probe_session) both feed it
// the same events, so the probe's verdict is the relay's verdict by
// construction.
//
// Policy sources (the seam DANE and MTA-STS plug into): the YAML policy gives
// a floor (level and mode, docs/design.md §6); a destination may publish a
// requirement of its own (RFC 7672 TLSA records, RFC 8461 MTA-STS). combine()
// is the one table that merges them. DANE publishes per host (a next hop
// with usable, DNSSEC-validated TLSA records enforces, proxy/dane), so the
// attempt holds one requirement per host; MTA-STS, per destination, will
// give every host the same.
//
// How to drive it, per transaction that opens a connection:
//   next_hop_attempt a(floor, published_per_host);
//   a host DANE refuses outright (TLSA lookup failed) -> follow(a.on_refused(why))
//   connect to hosts[a.host()] (plain text when a.plain())
//     connect failed        -> follow(a.on_failure({connect, why}))
//     connected             -> the SMTP leg runs; its failure -> follow(a.on_failure(...))
//     handshake done        -> follow(a.on_verdict(verdict))
//     next hop ready (MAIL answered, or EHLO done for the probe) -> follow(a.on_ready(tls))
//   follow: proceed -> go on; next_host / plain_retry -> connect to d.host
//           (plain text for plain_retry); policy_refusal -> the policy's 4xx/5xx;
//           give_up -> 451 4.4.1 (nothing reachable).
#pragma once

#include "config/enums.hpp"
#include "proxy/smtp/client_session.hpp"
#include "proxy/smtp/session_types.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::engine {

// What the YAML policy asks of a next hop (docs/design.md §6.1): its level and mode.
struct policy_floor {
    config::tls_level level = config::tls_level::opportunistic;
    bool testing = false;  // mode: testing — evaluate and log, deliver anyway
};

// The policy level's name for the log: "domain", "domain (testing)".
std::string level_name(const policy_floor& f);

// What a destination publishes about its own TLS: DANE (TLSA records of a
// host) produces none or enforce; MTA-STS will produce testing too.
enum class destination_requirement {
    none,     // nothing published
    testing,  // published in report-only mode (MTA-STS mode: testing): log what fails, never refuse
    enforce,  // published and enforced (usable TLSA records, MTA-STS mode: enforce): TLS and its checks, or no delivery
};

std::string_view to_string(destination_requirement r) noexcept;

// The requirement of the next hop's connection, from every policy source.
struct tls_requirement {
    smtp::upstream_tls starttls = smtp::upstream_tls::opportunistic;  // what the SMTP leg asks for
    bool enforce_floor = true;         // a failed check of the YAML level refuses the host
    bool enforce_destination = false;  // a failed check of the destination's requirement refuses it
    bool tls_expected = false;         // a plain-text connection fails some source (reported in mode testing)
    bool floor_requires_tls = false;   // the YAML level alone (mode enforce) requires TLS
};

// The one table that merges the sources (tests/engine/next_hop_attempt_test.cpp),
// after docs/design.md §6.4's precedence: the YAML level is a floor that nothing
// published can lower, and never plain text once a published policy applies.
//  - the stricter source sets STARTTLS: required when the YAML level is
//    encrypt or up in mode enforce, or the destination enforces; none only
//    when the level is none and nothing is published (report-only raises it
//    to opportunistic, so there is a handshake to report on);
//  - each source's checks refuse only when that source enforces; a failed
//    check of a source in testing is logged (would refuse) and delivered.
// (Opting a policy out of DANE or MTA-STS is the lookup's business: it then
// publishes `none` here.)
tls_requirement combine(const policy_floor& floor, destination_requirement published);

// The certificate checks after a handshake, one result per source.
struct certificate_verdict {
    bool floor_passed = true;        // the checks of the YAML level (tls::verify_peer through upstream_check)
    bool destination_passed = true;  // the destination's own requirement (none published: true)
};

enum class next_step {
    proceed,         // go on with this connection
    next_host,       // this host failed: connect to `host`
    plain_retry,     // opportunistic, the handshake failed: reconnect to `host` in plain text
    policy_refusal,  // no host satisfied the TLS policy: its 4xx/5xx, no data crosses
    give_up,         // no host was usable for other reasons (or the next hop broke after it accepted)
};

std::string_view to_string(next_step s) noexcept;

struct attempt_decision {
    next_step step = next_step::proceed;
    std::size_t host = 0;  // next_host, plain_retry: the host to connect to
    // proceed in mode testing: the check that would have refused this host.
    std::optional<smtp::failure_kind> would_refuse;
    // The failure that led here was the TLS policy's (the host is "refused",
    // not "unreachable").
    bool policy = false;
};

class next_hop_attempt {
public:
    // `hosts`: how many hosts the route has; `first_host`: where to start (a
    // reused connection continues on the host it is connected to). Every
    // host under the same requirement.
    next_hop_attempt(tls_requirement requirement, std::size_t hosts, std::size_t first_host = 0);
    // One published requirement per host, each combined with `floor`.
    next_hop_attempt(const policy_floor& floor, const std::vector<destination_requirement>& published,
                     std::size_t first_host = 0);

    std::size_t host() const noexcept { return host_; }
    // This connection skips STARTTLS (opportunistic, after a failed handshake).
    bool plain() const noexcept { return plain_; }
    // The SMTP leg's STARTTLS setting for the connection to host().
    smtp::upstream_tls starttls() const noexcept { return plain_ ? smtp::upstream_tls::none : requirement().starttls; }
    // The requirement of host().
    const tls_requirement& requirement() const noexcept { return requirements_[host_ < requirements_.size() ? host_ : 0]; }
    // The next hop accepted the set-up: later failures are not the route's.
    bool done() const noexcept { return done_; }
    // The last failure the TLS policy refused a host for (for the reply).
    const std::optional<smtp::upstream_failure>& policy_failure() const noexcept { return policy_failure_; }
    // A policy failure was the destination's own requirement (DANE: RFC 7672
    // defers, so the reply is 4xx whatever the YAML `on_failure` says).
    bool destination_refused() const noexcept { return destination_refused_; }
    // A host was refused before any connection (on_refused): with no
    // connection made, the transaction's DANE outcome is that refusal's.
    bool refused_before_connecting() const noexcept { return refused_before_connecting_; }

    // The destination's requirement refuses host() before any connection
    // (its TLSA lookup failed, or `dane: mandatory` without usable records).
    attempt_decision on_refused(std::string reason);
    // The connection to host() failed, or broke before the next hop was ready.
    attempt_decision on_failure(const smtp::upstream_failure& f);
    // The handshake on host()'s connection finished; its certificate checks.
    attempt_decision on_verdict(const certificate_verdict& v, std::string reason);
    // The next hop is ready (MAIL answered; for the probe, EHLO done), over
    // TLS or not.
    attempt_decision on_ready(bool tls);

private:
    bool is_policy_failure(smtp::failure_kind k) const noexcept;
    attempt_decision move_on(bool policy);

    std::vector<tls_requirement> requirements_;  // per host (one entry: all hosts)
    std::size_t hosts_;
    std::size_t host_;
    bool plain_ = false;
    bool done_ = false;
    std::optional<smtp::failure_kind> would_refuse_;  // this connection, mode testing
    std::optional<smtp::upstream_failure> policy_failure_;
    bool destination_refused_ = false;
    bool refused_before_connecting_ = false;
};

}  // namespace dsproxy::engine
