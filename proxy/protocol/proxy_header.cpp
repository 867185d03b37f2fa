// proxy_header — see proxy_header.hpp. Format: haproxy doc/proxy-protocol.txt.
#include "proxy/protocol/proxy_header.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>

namespace dsproxy::protocol {

namespace {

constexpr std::array<char, 12> v2_signature{'\x0D', '\x0A', '\x0D', '\x0A', '\x00', '\x0D',
                                            '\x0A', '\x51', '\x55', '\x49', '\x54', '\x0A'};
constexpr unsigned char cmd_local = 0x20, cmd_proxy = 0x21;
constexpr unsigned char fam_unspec = 0x00, fam_tcp4 = 0x11, fam_tcp6 = 0x21;
constexpr unsigned char pp2_type_authority = 0x02, pp2_type_ssl = 0x20;
constexpr unsigned char pp2_subtype_ssl_version = 0x21, pp2_subtype_ssl_cn = 0x22, pp2_subtype_ssl_cipher = 0x23;
constexpr unsigned char pp2_client_ssl = 0x01, pp2_client_cert_conn = 0x02, pp2_client_cert_sess = 0x04;

void put16(std::string& out, std::size_t v) {
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
}

void put_tlv(std::string& out, unsigned char type, std::string_view value) {
    out.push_back(static_cast<char>(type));
    put16(out, value.size());
    out.append(value);
}

std::uint16_t get16(const char* p) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) | static_cast<unsigned char>(p[1]));
}

std::string address_text(int family, const char* bytes) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, bytes, buf, sizeof buf);
    return buf;
}

parse_result invalid(std::string why) {
    parse_result r;
    r.status = parse_status::invalid;
    r.error = std::move(why);
    return r;
}

parse_result parse_v2(std::span<const char> in) {
    if (in.size() < 16) return {};
    const auto ver_cmd = static_cast<unsigned char>(in[12]);
    const auto family = static_cast<unsigned char>(in[13]);
    const std::size_t length = get16(in.data() + 14);
    if ((ver_cmd & 0xf0) != 0x20) return invalid("PROXY v2: unsupported version");
    if (ver_cmd != cmd_local && ver_cmd != cmd_proxy) return invalid("PROXY v2: unknown command");
    if (16 + length > max_header_size) return invalid("PROXY v2: header longer than 4096 octets");
    if (in.size() < 16 + length) return {};

    parse_result r;
    r.status = parse_status::complete;
    r.header.consumed = 16 + length;
    const char* body = in.data() + 16;
    std::size_t address_length = 0;
    if (ver_cmd == cmd_local || family == fam_unspec) {
        r.header.local = true;
    } else if (family == fam_tcp4) {
        address_length = 12;
        if (length < address_length) return invalid("PROXY v2: short IPv4 address block");
        r.header.endpoints = {address_text(AF_INET, body), get16(body + 8), address_text(AF_INET, body + 4),
                              get16(body + 10)};
    } else if (family == fam_tcp6) {
        address_length = 36;
        if (length < address_length) return invalid("PROXY v2: short IPv6 address block");
        r.header.endpoints = {address_text(AF_INET6, body), get16(body + 32), address_text(AF_INET6, body + 16),
                              get16(body + 34)};
    } else {
        return invalid("PROXY v2: unsupported address family (only TCP over IPv4/IPv6)");
    }
    // TLVs after the addresses; only AUTHORITY is used, the rest are skipped
    // but must be well-formed.
    std::size_t pos = address_length;
    while (!r.header.local && pos < length) {
        if (length - pos < 3) return invalid("PROXY v2: truncated TLV");
        const auto type = static_cast<unsigned char>(body[pos]);
        const std::size_t tlv_length = get16(body + pos + 1);
        if (length - pos - 3 < tlv_length) return invalid("PROXY v2: TLV longer than the header");
        if (type == pp2_type_authority) r.header.authority = std::string(body + pos + 3, tlv_length);
        pos += 3 + tlv_length;
    }
    return r;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
    if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
    unsigned value = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || p != text.data() + text.size() || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

parse_result parse_v1(std::span<const char> in) {
    const std::string_view bytes(in.data(), std::min(in.size(), max_v1_size));
    const auto crlf = bytes.find("\r\n");  // wire: the v1 header ends at its CRLF
    if (crlf == std::string_view::npos) {
        if (in.size() >= max_v1_size) return invalid("PROXY v1: no CRLF within 107 octets");
        return {};
    }
    const std::string_view line = bytes.substr(0, crlf);
    parse_result r;
    r.status = parse_status::complete;
    r.header.consumed = crlf + 2;
    if (line == "PROXY UNKNOWN" || line.starts_with("PROXY UNKNOWN ")) {  // wire: the v1 UNKNOWN form
        r.header.local = true;
        return r;
    }
    // PROXY TCP4|TCP6 src dst sport dport
    std::array<std::string_view, 6> f;
    std::size_t start = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
        const auto sp = line.find(' ', start);
        if ((sp == std::string_view::npos) != (i == f.size() - 1)) return invalid("PROXY v1: wrong number of fields");
        f[i] = line.substr(start, sp == std::string_view::npos ? std::string_view::npos : sp - start);
        start = sp + 1;
    }
    if (f[0] != "PROXY" || (f[1] != "TCP4" && f[1] != "TCP6")) return invalid("PROXY v1: bad protocol field");
    const int family = f[1] == "TCP4" ? AF_INET : AF_INET6;
    unsigned char buf[16];
    for (auto addr : {f[2], f[3]}) {
        if (inet_pton(family, std::string(addr).c_str(), buf) != 1) return invalid("PROXY v1: bad address");
    }
    r.header.endpoints.source_address = std::string(f[2]);
    r.header.endpoints.destination_address = std::string(f[3]);
    if (!parse_port(f[4], r.header.endpoints.source_port) || !parse_port(f[5], r.header.endpoints.destination_port))
        return invalid("PROXY v1: bad port");
    return r;
}

}  // namespace

proxy_tls_info tls_info_of(const smtp::tls_facts* client_tls) {
    proxy_tls_info out;
    if (!client_tls) return out;
    out.tls = true;
    out.version = client_tls->protocol;
    out.cipher = client_tls->cipher;
    out.client_certificate = client_tls->client_certificate_presented;
    out.verified = client_tls->client_certificate_verified;
    if (!client_tls->common_names.empty()) out.common_name = client_tls->common_names.front();
    return out;
}

std::optional<std::string> encode_v2(const proxied_endpoints& endpoints, const proxy_tls_info& tls,
                                     std::string_view authority) {
    unsigned char src[16], dst[16];
    std::string addresses;
    unsigned char family = 0;
    if (inet_pton(AF_INET, endpoints.source_address.c_str(), src) == 1 &&
        inet_pton(AF_INET, endpoints.destination_address.c_str(), dst) == 1) {
        family = fam_tcp4;
        addresses.append(reinterpret_cast<const char*>(src), 4);
        addresses.append(reinterpret_cast<const char*>(dst), 4);
    } else if (inet_pton(AF_INET6, endpoints.source_address.c_str(), src) == 1 &&
               inet_pton(AF_INET6, endpoints.destination_address.c_str(), dst) == 1) {
        family = fam_tcp6;
        addresses.append(reinterpret_cast<const char*>(src), 16);
        addresses.append(reinterpret_cast<const char*>(dst), 16);
    } else {
        return std::nullopt;
    }
    put16(addresses, endpoints.source_port);
    put16(addresses, endpoints.destination_port);

    std::string tlvs;
    if (!authority.empty()) put_tlv(tlvs, pp2_type_authority, authority);
    if (tls.tls) {
        std::string ssl;
        unsigned char client = pp2_client_ssl;
        if (tls.client_certificate) client |= pp2_client_cert_conn | pp2_client_cert_sess;
        ssl.push_back(static_cast<char>(client));
        // verify: 0 when the client presented a certificate that verified.
        const char verify = (tls.client_certificate && tls.verified) ? 0 : 1;
        ssl.append({0, 0, 0, verify});
        if (!tls.version.empty()) put_tlv(ssl, pp2_subtype_ssl_version, tls.version);
        if (!tls.cipher.empty()) put_tlv(ssl, pp2_subtype_ssl_cipher, tls.cipher);
        if (!tls.common_name.empty()) put_tlv(ssl, pp2_subtype_ssl_cn, tls.common_name);
        put_tlv(tlvs, pp2_type_ssl, ssl);
    }

    std::string out(v2_signature.begin(), v2_signature.end());
    out.push_back(static_cast<char>(cmd_proxy));
    out.push_back(static_cast<char>(family));
    put16(out, addresses.size() + tlvs.size());
    out += addresses;
    out += tlvs;
    return out;
}

parse_result parse(std::span<const char> input) {
    const std::size_t n = std::min(input.size(), v2_signature.size());
    if (std::memcmp(input.data(), v2_signature.data(), n) == 0) {
        if (input.size() < v2_signature.size()) return {};
        return parse_v2(input);
    }
    constexpr std::string_view v1_prefix = "PROXY ";
    const std::size_t m = std::min(input.size(), v1_prefix.size());
    if (std::string_view(input.data(), m) == v1_prefix.substr(0, m)) {
        if (input.size() < v1_prefix.size()) return {};
        return parse_v1(input);
    }
    return invalid("no PROXY protocol header where one was required");
}

}  // namespace dsproxy::protocol
