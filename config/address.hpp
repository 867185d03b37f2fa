// address — IP addresses, host:port endpoints and CIDR blocks in config text.
//
// Owns: parsing and printing `127.0.0.1:2525`, `[::1]:2525`,
// `mx.contoso.com:25`, `10.0.0.0/8`, `2001:db8::/32`, and the CIDR
// membership test that allowed_clients and proxy_protocol sources need.
// Must not: resolve names or open sockets (no Asio here); a host name is
// kept in canonical A-label form for whoever resolves it later.
//
// IPv6 with a port must be bracketed (`[::1]:25`): `::1:25` is itself a valid
// IPv6 address, so without brackets the port would be guessed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::config {

struct ip_address {
    enum class family : std::uint8_t { v4, v6 };
    family af = family::v4;
    std::array<std::uint8_t, 16> bytes{};  // v4 uses the first 4

    friend bool operator==(const ip_address&, const ip_address&) = default;
};

std::optional<ip_address> parse_ip(std::string_view text);
std::string to_string(const ip_address& ip);

// A host (IP literal or DNS name) and a port.
struct host_port {
    std::string host;              // IP text as written canonically, or an A-label name
    std::optional<ip_address> ip;  // set when host is an IP literal
    std::uint16_t port = 0;

    friend bool operator==(const host_port&, const host_port&) = default;
};

struct host_port_rules {
    bool allow_name = true;                  // false for listen addresses: IP literals only
    std::optional<std::uint16_t> default_port;  // nullopt: the port is required
};

std::optional<host_port> parse_host_port(std::string_view text, const host_port_rules& rules,
                                         std::string* error = nullptr);
// "127.0.0.1:25", "[::1]:25", "mx.contoso.com:25".
std::string to_string(const host_port& hp);

struct cidr {
    ip_address network;
    unsigned prefix = 0;  // 0..32 for v4, 0..128 for v6

    bool contains(const ip_address& ip) const noexcept;
    friend bool operator==(const cidr&, const cidr&) = default;
};

// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). Host bits
// set below the prefix are an error that names the intended network, because
// `10.1.2.3/8` is usually a typo for something narrower or wider.
std::optional<cidr> parse_cidr(std::string_view text, std::string* error = nullptr);
std::string to_string(const cidr& block);

}  // namespace dsproxy::config
