// proxy_header — HAProxy PROXY protocol v1 and v2 headers (sans-I/O).
//
// Owns: encoding a v2 header towards a backend (with the TLS facts of the
// client leg as PP2_TYPE_SSL sub-TLVs, and SNI as PP2_TYPE_AUTHORITY), and
// parsing a v1 or v2 header received from a trusted load balancer.
// Must not: do I/O or decide who is trusted (the listener does, from config).
//
// Threats: the header comes before any SMTP and is attacker-controlled when
// the peer is not a trusted balancer; the parser has a hard size limit
// (max_header_size) and never reads past the bytes it is given.
#pragma once

#include "proxy/smtp/session_types.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::protocol {

// Addresses in text form ("192.0.2.1", "2001:db8::1"), ports in host order.
struct proxied_endpoints {
    std::string source_address;
    std::uint16_t source_port = 0;
    std::string destination_address;
    std::uint16_t destination_port = 0;
};

struct proxy_tls_info {
    bool tls = false;                // the client leg used TLS
    bool client_certificate = false; // the client presented a certificate
    bool verified = false;           // ... and it verified
    std::string version;             // "TLSv1.3"
    std::string cipher;              // "TLS_AES_128_GCM_SHA256"
    std::string common_name;         // client certificate subject CN
};

// The TLS TLVs of the client's leg (PP2_TYPE_SSL and its sub-TLVs) from the
// client_tls record the engine collected at the handshake; null: no TLS.
proxy_tls_info tls_info_of(const smtp::tls_facts* client_tls);

// Encodes a v2 PROXY header. Returns nullopt when an address is not a valid
// IPv4/IPv6 literal or the two are of different families.
std::optional<std::string> encode_v2(const proxied_endpoints& endpoints, const proxy_tls_info& tls,
                                     std::string_view authority = {});

// v2 headers are at most 16 + 65,535 octets on the wire; we accept what a
// balancer sends in practice and refuse anything larger.
inline constexpr std::size_t max_header_size = 4096;
// v1: "PROXY TCP6 <39> <39> <5> <5>\r\n" is at most 107 octets.
inline constexpr std::size_t max_v1_size = 107;

struct parsed_header {
    std::size_t consumed = 0;  // bytes of the header, to drop from the stream
    bool local = false;        // v2 LOCAL / v1 UNKNOWN: use the socket's own addresses
    proxied_endpoints endpoints;
    std::optional<std::string> authority;  // v2 PP2_TYPE_AUTHORITY
};

enum class parse_status { complete, need_more, invalid };

struct parse_result {
    parse_status status = parse_status::need_more;
    parsed_header header;  // when complete
    std::string error;     // when invalid: what was wrong, for the log
};

// Parses a header at the start of `input` (v1 or v2, detected by signature).
parse_result parse(std::span<const char> input);

}  // namespace dsproxy::protocol
