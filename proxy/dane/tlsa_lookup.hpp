// tlsa_lookup — the RFC 7672 §2.2 rules for one next-hop host, as a sans-I/O
// machine: whether its TLSA records are looked up at all, at which names,
// what each answer means, and what the policy's `dane` mode then demands of
// the connection (docs/design.md §6.4).
//
// Owns: the per-host DANE facts (host_dane), the choice of the TLSA base
// domain and the reference identifiers (RFC 7672 §2.2.3, §3.2.2), and the
// one table from facts and mode to action (dane_action) and from action
// and handshake to the logged outcome (dane_outcome).
// Must not: do I/O (the caller asks next_query() and feeds on_answer()),
// touch OpenSSL, or log.
//
// How to drive it:
//   tlsa_lookup l(mode, hop, next_hop_domain);
//   while (auto name = l.next_query()) l.on_answer(co_await resolver.query_tlsa(*name));
//   action_of(mode, l.result()) -> what the connection to this host must be
//
// The rules (tests/dane/tlsa_lookup_test.cpp):
//  - no lookup for `dane: none`, an address literal, a host reached through
//    an insecure MX RRset (§2.2.1), or whose address records are not all
//    secure (§2.2.2): DANE does not apply;
//  - the TLSA base domain is the CNAME-expanded name when the expansion was
//    secure, else the host name; when the expanded name has no TLSA records
//    the host name is tried too (§2.2.3);
//  - a bogus answer or a lookup failure: the host is not used (§2.2);
//  - an insecure answer, or a secure denial: DANE does not apply;
//  - a secure RRset with a usable record: authenticated TLS required; with
//    unusable records only: TLS required, unauthenticated (§3.1.3).
#pragma once

#include "config/enums.hpp"
#include "proxy/dane/tlsa_record.hpp"
#include "proxy/routing/dns_answer.hpp"
#include "proxy/routing/next_hop.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::dane {

// What the DNS says about one host's TLSA records.
enum class dane_state {
    not_applicable,  // not looked up, insecure, or securely absent: the YAML policy alone
    usable,          // a secure RRset with at least one usable record
    unusable,        // a secure RRset whose records are all unusable
    lookup_failed,   // bogus, or no answer (servfail, timeout...): the host is not used
};
std::string_view to_string(dane_state s) noexcept;

// Why DANE does not apply (dane_state::not_applicable), for the log.
enum class skip_reason {
    none,
    mode_none,         // `dane: none`
    address_literal,   // the next hop is an IP address
    mx_insecure,       // the host name came from an insecure MX RRset (RFC 7672 §2.2.1)
    address_insecure,  // its A/AAAA records are not secure (RFC 7672 §2.2.2)
    tlsa_insecure,     // the TLSA answer is insecure
    no_tlsa,           // secure denial: no TLSA records
};
std::string_view to_string(skip_reason r) noexcept;

struct host_dane {
    dane_state state = dane_state::not_applicable;
    skip_reason skipped = skip_reason::none;
    std::string base_domain;                 // TLSA base domain (usable, unusable, lookup_failed)
    std::vector<tlsa_record> usable;         // any of them may match (key rollover)
    std::vector<tlsa_record> unusable;       // ignored, for the log and the probe
    std::size_t malformed = 0;               // records too short to parse (unusable too)
    // Names a DANE-TA(2) chain's leaf must match (RFC 7672 §3.2.2): the TLSA
    // base domain first (it is also the SNI, §8.1), then the MX host name and
    // the next-hop domain, without repeats.
    std::vector<std::string> reference_names;
    routing::dns_status lookup_status = routing::dns_status::ok;  // lookup_failed: why
    std::string why_bogus;                   // the validator's reason, when bogus
};

// "_25._tcp.mx.example.com" (RFC 6698 §3).
std::string tlsa_owner(std::uint16_t port, std::string_view base_domain);

// The TLSA owner name of `hop` itself, when its TLSA records may be looked
// up at all: not for `dane: none`, an address literal, or a host reached
// through an insecure MX RRset. Known before the host's address records
// (only name, port, origin and name_secure are read), so the query can be
// in flight together with the address lookup (docs/design.md §6.4); the
// answer is then fed to tlsa_lookup when, and only if, it asks for that
// name (not when the address records turn out insecure; after the
// expanded name when the host is an alias).
std::optional<std::string> early_tlsa_owner(config::dane_mode mode, const routing::next_hop& hop);

class tlsa_lookup {
public:
    tlsa_lookup(config::dane_mode mode, const routing::next_hop& hop, std::string_view next_hop_domain);

    // The TLSA owner name to ask for next; nullopt once result() is final.
    std::optional<std::string> next_query() const;
    // The answer to the last next_query().
    void on_answer(const routing::rdata_answer& answer);
    const host_dane& result() const noexcept { return result_; }

private:
    void finish_with(skip_reason r);

    std::uint16_t port_;
    std::string host_;
    std::string next_hop_domain_;
    std::vector<std::string> candidates_;  // TLSA base domains still to try, in order
    std::size_t next_ = 0;
    bool done_ = false;
    host_dane result_;
};

// What the connection to the host must be, from its DANE facts and the
// policy's mode.
enum class dane_action {
    none,          // the YAML policy alone
    authenticate,  // TLS required and one of the usable records must match
    encrypt,       // TLS required, no authentication (only unusable records)
    refuse_host,   // not used: TLSA lookup failed, or `mandatory` without usable records
};
std::string_view to_string(dane_action a) noexcept;
dane_action action_of(config::dane_mode mode, const host_dane& host) noexcept;

// The `dane=` field of the TLS and transaction log lines and the metric's
// label (docs/configuration.md "DANE"): the action and how the connection
// went.
enum class dane_outcome {
    not_applicable,            // DANE did not apply
    authenticated,             // TLS, and a usable TLSA record matched the chain
    unauthenticated_required,  // TLS required by unusable records only, and TLS it was
    failed,                    // required TLS or a match, did not get it; or the host was refused
};
std::string_view to_string(dane_outcome o) noexcept;  // "not-applicable", "authenticated", ...
// `tls`: the handshake finished; `matched`: OpenSSL's DANE verification
// found a matching record.
dane_outcome outcome_of(dane_action action, bool tls, bool matched) noexcept;

}  // namespace dsproxy::dane
