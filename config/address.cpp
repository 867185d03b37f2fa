// address — see address.hpp.
#include "config/address.hpp"

#include "matching/idn.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace dsproxy::config {

namespace {

void set_error(std::string* error, std::string message) {
    if (error) *error = std::move(message);
}

constexpr std::string_view host_port_expectation =
    "an address such as `127.0.0.1:2525`, `[::1]:2525` or `mail.contoso.com:25`";

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

unsigned bit_count(ip_address::family af) { return af == ip_address::family::v4 ? 32 : 128; }

}  // namespace

std::optional<ip_address> parse_ip(std::string_view text) {
    const std::string s(text);  // inet_pton wants a NUL-terminated string
    ip_address ip;
    if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
        ip.af = ip_address::family::v4;
        return ip;
    }
    if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
        ip.af = ip_address::family::v6;
        return ip;
    }
    return std::nullopt;
}

std::string to_string(const ip_address& ip) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(ip.af == ip_address::family::v4 ? AF_INET : AF_INET6, ip.bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<host_port> parse_host_port(std::string_view text, const host_port_rules& rules,
                                         std::string* error) {
    const std::string expected = "expected " + std::string(host_port_expectation) + ", got `" +
                                 std::string(text) + "`";
    std::string_view host;
    std::string_view port;
    bool has_port = false;
    bool bracketed = false;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            set_error(error, expected + " (missing `]`)");
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        bracketed = true;
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                set_error(error, expected);
                return std::nullopt;
            }
            port = rest.substr(1);
            has_port = true;
        }
    } else {
        const auto colon = text.rfind(':');
        if (colon != std::string_view::npos && text.find(':') != colon) {
            set_error(error, "IPv6 address `" + std::string(text) +
                                 "` must be written in brackets, e.g. `[::1]:2525`");
            return std::nullopt;
        }
        host = text.substr(0, colon);
        if (colon != std::string_view::npos) {
            port = text.substr(colon + 1);
            has_port = true;
        }
    }

    host_port out;
    if (has_port) {
        const auto p = parse_port(port);
        if (!p) {
            set_error(error, "port `" + std::string(port) + "` in `" + std::string(text) +
                                 "` is not a number from 1 to 65535");
            return std::nullopt;
        }
        out.port = *p;
    } else if (rules.default_port) {
        out.port = *rules.default_port;
    } else {
        set_error(error, expected + " (the port is required)");
        return std::nullopt;
    }

    if (auto ip = parse_ip(host)) {
        if (bracketed != (ip->af == ip_address::family::v6)) {
            set_error(error, bracketed ? "only IPv6 addresses go in brackets: `" + std::string(text) + "`"
                                       : expected);
            return std::nullopt;
        }
        out.ip = *ip;
        out.host = to_string(*ip);
        return out;
    }
    if (bracketed) {
        set_error(error, "`" + std::string(host) + "` in `" + std::string(text) + "` is not an IPv6 address");
        return std::nullopt;
    }
    if (!rules.allow_name) {
        set_error(error, "expected an IP address and port such as `127.0.0.1:2525` or `[::1]:2525`, got `" +
                             std::string(text) + "`");
        return std::nullopt;
    }
    std::string why;
    const auto name = matching::reference_name::parse(host, &why);
    if (!name) {
        set_error(error, expected + ": " + why);
        return std::nullopt;
    }
    out.host = name->text();
    return out;
}

std::string to_string(const host_port& hp) {
    const bool v6 = hp.ip && hp.ip->af == ip_address::family::v6;
    return (v6 ? "[" + hp.host + "]" : hp.host) + ':' + std::to_string(hp.port);
}

bool cidr::contains(const ip_address& ip) const noexcept {
    if (ip.af != network.af) return false;
    unsigned bits = prefix;
    for (std::size_t i = 0; bits > 0; ++i) {
        const unsigned take = bits >= 8 ? 8 : bits;
        const auto mask = static_cast<std::uint8_t>(0xFF << (8 - take));
        if ((ip.bytes[i] & mask) != (network.bytes[i] & mask)) return false;
        bits -= take;
    }
    return true;
}

std::optional<cidr> parse_cidr(std::string_view text, std::string* error) {
    const auto slash = text.find('/');
    const auto address_text = text.substr(0, slash);
    const auto ip = parse_ip(address_text);
    if (!ip) {
        set_error(error, "expected a network such as `10.0.0.0/8`, `192.0.2.1` or `2001:db8::/32`, got `" +
                             std::string(text) + "`");
        return std::nullopt;
    }
    cidr out{*ip, bit_count(ip->af)};
    if (slash != std::string_view::npos) {
        const auto prefix_text = text.substr(slash + 1);
        unsigned prefix = 0;
        const auto* end = prefix_text.data() + prefix_text.size();
        const auto [ptr, ec] = std::from_chars(prefix_text.data(), end, prefix);
        if (prefix_text.empty() || ec != std::errc{} || ptr != end || prefix > bit_count(ip->af)) {
            set_error(error, "prefix length `/" + std::string(prefix_text) + "` in `" + std::string(text) +
                                 "` must be a number from 0 to " + std::to_string(bit_count(ip->af)));
            return std::nullopt;
        }
        out.prefix = prefix;
    }
    // Host bits must be zero: clear them and compare.
    cidr cleared = out;
    for (unsigned bit = out.prefix; bit < bit_count(ip->af); ++bit)
        cleared.network.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    if (cleared.network != out.network) {
        set_error(error, "`" + std::string(text) + "` has host bits set below the prefix; did you mean `" +
                             to_string(cleared) + "`?");
        return std::nullopt;
    }
    return out;
}

std::string to_string(const cidr& block) {
    return to_string(block.network) + '/' + std::to_string(block.prefix);
}

}  // namespace dsproxy::config
