// dns_rdata — RDATA decoders; see the header for the rules.
#include "proxy/routing/dns_rdata.hpp"

#include <arpa/inet.h>

#include <cstdio>

namespace dsproxy::routing {

namespace {

bool ldh(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

std::optional<std::string> decode_name(std::span<const unsigned char> data, std::size_t& offset) {
    std::string out;
    std::size_t total = 0;
    while (offset < data.size()) {
        const std::size_t len = data[offset++];
        if (len == 0) return out;
        if (len > 63 || offset + len > data.size()) return std::nullopt;  // pointer or overrun
        total += len + 1;
        if (total > 255) return std::nullopt;  // RFC 1035 §3.1
        if (!out.empty()) out += '.';
        for (std::size_t i = 0; i < len; ++i) {
            const unsigned char c = data[offset + i];
            if (ldh(c)) {
                out += static_cast<char>(c);
            } else {
                char esc[5];
                std::snprintf(esc, sizeof esc, "\\%03u", c);
                out += esc;
            }
        }
        offset += len;
    }
    return std::nullopt;  // no root label
}

std::optional<mx_record> decode_mx(std::span<const unsigned char> rdata) {
    if (rdata.size() < 3) return std::nullopt;
    std::size_t offset = 2;
    auto host = decode_name(rdata, offset);
    if (!host || offset != rdata.size()) return std::nullopt;
    return mx_record{static_cast<std::uint16_t>(rdata[0] << 8 | rdata[1]), std::move(*host)};
}

std::optional<host_address> decode_address(ip_family family, std::span<const unsigned char> rdata) {
    const bool v4 = family == ip_family::ipv4;
    if (rdata.size() != (v4 ? 4u : 16u)) return std::nullopt;
    char text[INET6_ADDRSTRLEN] = {};
    if (!::inet_ntop(v4 ? AF_INET : AF_INET6, rdata.data(), text, sizeof text)) return std::nullopt;
    return host_address{family, text};
}

std::optional<std::string> decode_txt(std::span<const unsigned char> rdata) {
    std::string out;
    std::size_t offset = 0;
    while (offset < rdata.size()) {
        const std::size_t len = rdata[offset++];
        if (offset + len > rdata.size()) return std::nullopt;
        out.append(reinterpret_cast<const char*>(rdata.data() + offset), len);
        offset += len;
    }
    return out;
}

}  // namespace dsproxy::routing
