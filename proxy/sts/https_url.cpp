// https_url — see https_url.hpp.
#include "proxy/sts/https_url.hpp"

#include "matching/dns_name.hpp"

#include <cctype>
#include <charconv>

namespace dsproxy::sts {

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_ipv4_literal(std::string_view s) noexcept {
    int parts = 0;
    while (true) {
        std::size_t n = 0;
        unsigned value = 0;
        while (n < s.size() && n < 4 && s[n] >= '0' && s[n] <= '9') value = value * 10 + unsigned(s[n++] - '0');
        if (n == 0 || n > 3 || value > 255 || (n > 1 && s[0] == '0')) return false;
        ++parts;
        s.remove_prefix(n);
        if (s.empty()) return parts == 4;
        if (s.front() != '.' || parts == 4) return false;
        s.remove_prefix(1);
    }
}

bool is_ipv6_literal_text(std::string_view s) noexcept {
    if (s.size() < 2) return false;
    for (const char c : s)
        if (hex_value(c) < 0 && c != ':' && c != '.') return false;
    return s.find(':') != std::string_view::npos;
}

}  // namespace

bool is_uri_text(std::string_view text) noexcept {
    static constexpr std::string_view other = "-._~:/?#[]@!$&'()*+,;=";
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (std::isalnum(static_cast<unsigned char>(c)) != 0 && static_cast<unsigned char>(c) < 0x80) continue;
        if (c == '%') {
            if (i + 2 >= text.size() || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0) return false;
            i += 2;
            continue;
        }
        if (other.find(c) == std::string_view::npos) return false;
    }
    return true;
}

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size() || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0) return std::nullopt;
        out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
        i += 2;
    }
    return out;
}

std::optional<https_url> parse_https_url(std::string_view input) {
    constexpr std::string_view scheme = "https://";
    if (input.size() < scheme.size() || !is_uri_text(input)) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)  // the scheme is case-insensitive (RFC 3986 §3.1)
        if (std::tolower(static_cast<unsigned char>(input[i])) != scheme[i]) return std::nullopt;
    input.remove_prefix(scheme.size());
    if (input.find('#') != std::string_view::npos) return std::nullopt;

    const auto target_at = input.find_first_of("/?");  // wire: authority ends at the path or query
    std::string_view authority = input.substr(0, target_at);
    https_url out;
    if (target_at != std::string_view::npos) {
        const std::string_view target = input.substr(target_at);
        out.target = target.front() == '?' ? "/" + std::string(target) : std::string(target);
    }
    if (authority.find('@') != std::string_view::npos) return std::nullopt;

    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(1, close - 1);
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            port = after.substr(1);
            if (port.empty()) return std::nullopt;
        }
        if (!is_ipv6_literal_text(host)) return std::nullopt;
        out.host = std::string(host);
    } else {
        const auto colon = authority.find(':');
        if (colon != std::string_view::npos) {
            host = authority.substr(0, colon);
            port = authority.substr(colon + 1);
            if (port.empty()) return std::nullopt;
        }
        if (is_ipv4_literal(host)) {
            out.host = std::string(host);
        } else if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
            return std::nullopt;  // looks like IPv4 but is not one ("256.1.1.1")
        } else {
            matching::canonical_name name;
            matching::ignore_reason why{};
            if (host.empty() || host.back() == '.' || !matching::canonicalize_presented(host, name, why) ||
                name.wildcard)
                return std::nullopt;
            out.host = name.text;
        }
    }
    if (!port.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535 || port.size() > 5)
            return std::nullopt;
        out.port = static_cast<std::uint16_t>(value);
    }
    return out;
}

std::string to_string(const https_url& url) {
    std::string out = "https://";
    out += url.host.find(':') != std::string::npos ? '[' + url.host + ']' : url.host;
    if (url.port != 443) out += ':' + std::to_string(url.port);
    return out + url.target;
}

}  // namespace dsproxy::sts
