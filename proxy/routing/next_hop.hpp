// next_hop — where a recipient domain's mail goes: the planner's output.
//
// Owns: the next-hop and routing-failure value types, the routing limits,
// and the parser for a static route entry from policy ("host:port",
// "[192.0.2.1]:25", "[2001:db8::1]:2525", or "host" with the default port).
// Must not: do I/O or resolve anything.
//
// Threats: static routes come from our own config, but the same literal
// checks guard MX data from the network (route_planner.cpp).
#pragma once

#include "proxy/routing/dns_answer.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::routing {

// Which addresses of a host are tried, in which order. The interleaving
// orders follow RFC 8305 §4: alternate families so that one broken family
// costs one attempt, not all of them.
enum class address_order {
    ipv6_first,  // v6, v4, v6, v4, ... (default; RFC 6724 prefers IPv6)
    ipv4_first,  // v4, v6, v4, v6, ...
    ipv4_only,
    ipv6_only,
};

std::string_view to_string(address_order o) noexcept;
std::optional<address_order> parse_address_order(std::string_view text) noexcept;

// Named limits (docs/design.md §10), each with a test that exceeds it.
struct route_limits {
    // Port for MX and implicit-MX delivery (25; tests point it elsewhere).
    std::uint16_t mx_port = 25;
    // MX hosts kept after sorting (Postfix's smtp_mx_address_limit is 5 too):
    // a hostile zone with hundreds of MX records must not make us spend a
    // whole session deadline on lookups and connection attempts.
    std::size_t max_mx_hosts = 5;
    // Addresses tried per host: two of each family survives one broken
    // address per family without walking a long round-robin list.
    std::size_t max_addresses_per_host = 4;
    address_order order = address_order::ipv6_first;
};

enum class hop_origin {
    static_route,     // policy `route`
    mx,               // an MX record
    implicit_mx,      // RFC 5321 §5.1: no MX, the domain itself
    address_literal,  // RCPT to user@[192.0.2.1] (RFC 5321 §4.1.3)
};

std::string_view to_string(hop_origin o) noexcept;

struct next_hop {
    std::string host;  // lower case, no trailing dot; for a literal, the address text
    std::uint16_t port = 25;
    std::uint16_t preference = 0;  // MX preference; position in a static route
    hop_origin origin = hop_origin::mx;
    std::vector<host_address> addresses;  // in the order to try, capped
    // DNSSEC facts for DANE (RFC 7672 §2.2): whether the host name itself is
    // trustworthy (a secure MX RRset; a static route from our own config;
    // the destination itself for the implicit MX), whether every address
    // lookup of it was secure, and its CNAME-expanded name when it is an
    // alias (empty otherwise).
    bool name_secure = false;
    bool addresses_secure = false;
    std::string canonical;
};

// A routing failure is the RCPT reply the client gets, plus the plain-words
// reason for the log line.
struct routing_failure {
    int code = 451;
    std::string enhanced;  // "4.4.3"
    std::string text;      // the reply text after the codes, one plain sentence
    bool permanent() const noexcept { return code >= 500; }
};

// One static route entry from policy.
struct static_hop {
    std::string host;  // a host name or an IP address literal (without brackets)
    std::uint16_t port = 25;
    friend bool operator==(const static_hop&, const static_hop&) = default;
};

// Parses "host", "host:port", "[v4-or-v6-address]" or "[address]:port".
// An IPv6 address must be in brackets. Returns nullopt and sets `error` for
// anything else (empty host, bad port, port 0, invalid host name).
std::optional<static_hop> parse_static_hop(std::string_view text, std::uint16_t default_port,
                                           std::string& error);

// If `text` is an IPv4 or IPv6 address in text form, its family.
std::optional<ip_family> ip_literal_family(std::string_view text) noexcept;

// A canonical key for a planned route: the sorted distinct host:port pairs.
// Two recipient domains with the same key may share one upstream
// transaction (docs/design.md §2), e.g. two domains hosted on the same MX servers.
std::string route_key(const std::vector<next_hop>& hops);

}  // namespace dsproxy::routing
