// dns_answer — what a DNS lookup told us, as plain values (sans-I/O).
//
// Owns: the answer types that the resolver (proxy/net/dns_resolver) produces
// and the route planner consumes, and the one status enum for both.
// Must not: do I/O or know about c-ares; the resolver maps its library's
// codes onto dns_status, so the planner and its tests never see them.
//
// Threats: everything here came off the network from servers we do not
// control; the planner validates names and bounds counts before use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::routing {

// Errors are values: every lookup returns one of these, never throws.
enum class dns_status {
    ok,           // records of the requested type
    nxdomain,     // the name does not exist (authoritative: permanent)
    nodata,       // the name exists, no records of this type (NOERROR, empty answer)
    servfail,     // the server could not answer (temporary)
    timeout,      // no answer within the configured timeout and tries (temporary)
    refused,      // the server refused the query (temporary: a resolver setup problem)
    servers_failed,  // every server was unreachable or answered SERVFAIL/REFUSED
                     // (c-ares 1.18 fails over on those rcodes and then
                     // reports ECONNREFUSED, without saying which it was)
    malformed,    // an answer we could not parse
    cancelled,    // the caller gave up (session deadline, shutdown)
    failure,      // anything else (out of memory, bad name passed in)
};

// Only nxdomain and nodata are facts about the domain; everything else means
// "we do not know yet" and must end in a 4xx so the client retries.
constexpr bool is_negative_answer(dns_status s) noexcept {
    return s == dns_status::nxdomain || s == dns_status::nodata;
}

std::string_view to_string(dns_status s) noexcept;

struct mx_record {
    std::uint16_t preference = 0;
    std::string host;  // as received; "" or "." is the RFC 7505 null MX target
};

struct mx_answer {
    dns_status status = dns_status::failure;
    std::vector<mx_record> records;  // meaningful when status == ok
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
    dns_status ipv4_status = dns_status::failure;
    dns_status ipv6_status = dns_status::failure;
    std::vector<host_address> addresses;  // both families, as the server gave them
};

// Combines the per-family results of one host's A and AAAA lookups.
address_answer combine_families(dns_status ipv4_status, dns_status ipv6_status,
                                std::vector<host_address> addresses);

}  // namespace dsproxy::routing
