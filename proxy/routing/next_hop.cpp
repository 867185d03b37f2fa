// next_hop — static route parsing, IP literal detection, route keys.
#include "proxy/routing/next_hop.hpp"

#include "matching/dns_name.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace dsproxy::routing {

std::string_view to_string(address_order o) noexcept {
    switch (o) {
    case address_order::ipv6_first: return "ipv6-first";
    case address_order::ipv4_first: return "ipv4-first";
    case address_order::ipv4_only: return "ipv4-only";
    case address_order::ipv6_only: return "ipv6-only";
    }
    return "ipv6-first";
}

std::optional<address_order> parse_address_order(std::string_view text) noexcept {
    for (auto o : {address_order::ipv6_first, address_order::ipv4_first, address_order::ipv4_only,
                   address_order::ipv6_only})
        if (text == to_string(o)) return o;
    return std::nullopt;
}

std::string_view to_string(hop_origin o) noexcept {
    switch (o) {
    case hop_origin::static_route: return "static";
    case hop_origin::mx: return "mx";
    case hop_origin::implicit_mx: return "implicit-mx";
    case hop_origin::address_literal: return "address-literal";
    }
    return "mx";
}

std::optional<ip_family> ip_literal_family(std::string_view text) noexcept {
    // inet_pton is a pure parser (no I/O); it needs a NUL-terminated copy.
    if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
    char buf[46] = {};
    std::copy(text.begin(), text.end(), buf);
    unsigned char out[16];
    if (::inet_pton(AF_INET, buf, out) == 1) return ip_family::ipv4;
    if (::inet_pton(AF_INET6, buf, out) == 1) return ip_family::ipv6;
    return std::nullopt;
}

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

std::optional<static_hop> parse_static_hop(std::string_view text, std::uint16_t default_port,
                                           std::string& error) {
    static_hop hop;
    hop.port = default_port;
    std::string_view host = text;
    std::string_view port;
    bool bracketed = false;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            error = "missing ']' in '" + std::string(text) + "'";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                error = "unexpected text after ']' in '" + std::string(text) + "'";
                return std::nullopt;
            }
            port = rest.substr(1);
            if (port.empty()) {
                error = "empty port in '" + std::string(text) + "'";
                return std::nullopt;
            }
        }
        bracketed = true;
    } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            error = "an IPv6 address needs brackets: '[" + std::string(host) + "]:port'";
            return std::nullopt;
        }
        if (port.empty()) {
            error = "empty port in '" + std::string(text) + "'";
            return std::nullopt;
        }
    }
    if (!port.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
            error = "invalid port '" + std::string(port) + "'";
            return std::nullopt;
        }
        hop.port = static_cast<std::uint16_t>(value);
    }
    if (host.empty()) {
        error = "empty host in '" + std::string(text) + "'";
        return std::nullopt;
    }
    if (ip_literal_family(host)) {
        hop.host = lower(host);
        return hop;
    }
    if (bracketed) {
        error = "'[" + std::string(host) + "]' is not an IP address";
        return std::nullopt;
    }
    std::string name = lower(host);
    if (name.back() == '.') name.pop_back();
    if (!matching::is_ldh_host(name)) {
        error = "'" + std::string(host) + "' is not a valid host name";
        return std::nullopt;
    }
    hop.host = std::move(name);
    return hop;
}

std::string route_key(const std::vector<next_hop>& hops) {
    std::set<std::string> parts;
    for (const auto& h : hops) {
        const bool v6 = h.host.find(':') != std::string::npos;
        parts.insert((v6 ? "[" + h.host + "]" : h.host) + ":" + std::to_string(h.port));
    }
    std::string key;
    for (const auto& p : parts) {
        if (!key.empty()) key += ' ';
        key += p;
    }
    return key;
}

}  // namespace dsproxy::routing
