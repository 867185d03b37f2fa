// dns_answer — what a DNS lookup told us, as plain values (sans-I/O).
//
// Owns: the answer types that the resolver (proxy/net/dns_resolver) produces
// and the route planner, the DANE rules (proxy/dane) and MTA-STS consume: the
// one status enum, and with every answer its DNSSEC state (secure when the
// validating resolver proved it from a trust anchor, RFC 4035 §4.3).
// Must not: do I/O or know about libunbound; the resolver maps its library's
// codes onto dns_status, so the planner and its tests never see them.
//
// Threats: everything here came off the network from servers we do not
// control; the planner validates names and bounds counts before use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::routing {

// Errors are values: every lookup returns one of these, never throws.
enum class dns_status {
    ok,           // records of the requested type
    nxdomain,     // the name does not exist (authoritative: permanent)
    nodata,       // the name exists, no records of this type (NOERROR, empty answer)
    servfail,     // no server could answer: SERVFAIL, REFUSED or unreachable after fail-over (temporary)
    timeout,      // no answer within the configured timeout and tries (temporary)
    refused,      // the server refused the query (temporary: a resolver setup problem)
    malformed,    // an answer we could not parse
    bogus,        // DNSSEC validation failed (RFC 4035 §5.5): the answer is unusable (temporary)
    cancelled,    // the caller gave up (session deadline, shutdown)
    failure,      // anything else (out of memory, bad name passed in)
};

// Only nxdomain and nodata are facts about the domain; everything else means
// "we do not know yet" and must end in a 4xx so the client retries.
constexpr bool is_negative_answer(dns_status s) noexcept {
    return s == dns_status::nxdomain || s == dns_status::nodata;
}

std::string_view to_string(dns_status s) noexcept;

// The four DNSSEC outcomes of one answer (RFC 7672 §2.1): secure and
// insecure answers (positive or negative) are facts; bogus and lookup
// failures are not, and DANE treats both as "cannot tell".
enum class dnssec { secure, insecure, bogus, failure };
std::string_view to_string(dnssec d) noexcept;
constexpr dnssec dnssec_of(dns_status s, bool secure) noexcept {
    if (s == dns_status::bogus) return dnssec::bogus;
    if (s != dns_status::ok && !is_negative_answer(s)) return dnssec::failure;
    return secure ? dnssec::secure : dnssec::insecure;
}

// Which address families a host lookup asks for: `address_order: ipv4-only`
// must not send an AAAA query at all, and ipv6-only no A query.
enum class family_set { both, ipv4, ipv6 };

struct mx_record {
    std::uint16_t preference = 0;
    std::string host;  // as received; "" or "." is the RFC 7505 null MX target
};

struct mx_answer {
    dns_status status = dns_status::failure;
    std::vector<mx_record> records;  // meaningful when status == ok
    bool secure = false;             // DNSSEC-validated (the records, or their absence)
};

enum class ip_family { ipv4, ipv6 };

struct host_address {
    ip_family family = ip_family::ipv4;
    std::string text;  // "192.0.2.1", "2001:db8::1": the I/O layer parses it

    friend bool operator==(const host_address&, const host_address&) = default;
};

// A and AAAA for one host. status is ok when at least one family gave an
// address; otherwise it says why there is none (a temporary failure of
// either family wins over a negative answer, so we never turn "DNS was
// down" into a bounce).
struct address_answer {
    dns_status status = dns_status::failure;
    dns_status ipv4_status = dns_status::failure;  // nodata when the family was not asked
    dns_status ipv6_status = dns_status::failure;
    // Every family asked was answered securely (RFC 7672 §2.2.1: TLSA is
    // looked up only for hosts whose address records are secure).
    bool secure = false;
    // The name the answers are for after CNAME expansion (RFC 7672 §2.2.3:
    // the TLSA base domain when the whole chain is secure); empty when the
    // name was not an alias.
    std::string canonical;
    std::vector<host_address> addresses;  // both families, as the server gave them
};

// One family's answer, as the resolver reports it to combine_families.
struct family_answer {
    dns_status status = dns_status::failure;
    bool secure = false;
    std::string canonical;
};

// Combines the per-family results of one host's lookups; a family that was
// not asked (family_set) is passed as std::nullopt and does not count.
address_answer combine_families(const std::optional<family_answer>& ipv4, const std::optional<family_answer>& ipv6,
                                std::vector<host_address> addresses);
// Both families asked, neither secure (tests, IP literals).
address_answer combine_families(dns_status ipv4_status, dns_status ipv6_status, std::vector<host_address> addresses);

// Resource records of one type as wire RDATA, with the answer's status: the
// TLSA (RFC 6698) and TXT (MTA-STS, RFC 8461 §3.1) lookups return these and
// their own modules parse the data.
struct rdata_answer {
    dns_status status = dns_status::failure;
    bool secure = false;
    std::string canonical;                         // after CNAME expansion, empty when none
    std::string why_bogus;                         // the validator's reason when status == bogus
    std::vector<std::vector<unsigned char>> rdata; // one entry per record, meaningful when ok
};

}  // namespace dsproxy::routing
