// tlsa_record — one TLSA record (RFC 6698 §2.1) and whether SMTP may use it
// (RFC 7672 §3.1), as plain values (sans-I/O).
//
// Owns: decoding TLSA RDATA off the wire (bounds-checked), the usability
// rules of RFC 7672 §3.1.3 and RFC 7671 §5 for SMTP, and the record's text
// for logs and `dsproxy probe` ("3 1 1 <hex>", the zone-file form).
// Must not: do I/O, touch OpenSSL or compare certificates: the TLS layer
// (tls/dane_verification) hands usable records to OpenSSL's own DANE code.
//
// Threats: RDATA comes from the network. A record we cannot parse, or whose
// digest length does not fit its matching type, is "unusable", never
// trusted and never a reason to read past its end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::dane {

// RFC 6698 §2.1.1, RFC 7218 names.
enum class tlsa_usage : std::uint8_t { pkix_ta = 0, pkix_ee = 1, dane_ta = 2, dane_ee = 3 };
// RFC 6698 §2.1.2: the whole certificate, or its SubjectPublicKeyInfo.
enum class tlsa_selector : std::uint8_t { cert = 0, spki = 1 };
// RFC 6698 §2.1.3: the data itself, or its SHA-256 / SHA-512 digest.
enum class tlsa_mtype : std::uint8_t { full = 0, sha256 = 1, sha512 = 2 };

struct tlsa_record {
    std::uint8_t usage = 0;     // raw: a value outside tlsa_usage is kept to be reported unusable
    std::uint8_t selector = 0;
    std::uint8_t mtype = 0;
    std::vector<unsigned char> data;  // certificate association data

    friend bool operator==(const tlsa_record&, const tlsa_record&) = default;
};

// Why SMTP cannot use a record (RFC 7672 §3.1.3: "unusable" records are
// ignored, as if absent).
enum class unusable_reason {
    none,              // usable
    pkix_usage,        // PKIX-TA(0) / PKIX-EE(1): no WebPKI for MX hosts (RFC 7672 §3.1.3)
    unknown_usage,     // above 3
    unknown_selector,  // above 1
    unknown_mtype,     // above 2 (RFC 7671 §5: "unsupported")
    digest_length,     // SHA-256 data not 32 octets, SHA-512 not 64, full data empty
};
std::string_view to_string(unusable_reason r) noexcept;

// RFC 6698 §2.1: usage, selector, matching type, then at least one octet of
// data. Shorter RDATA: nullopt (the answer is malformed, the record counts
// as unusable).
std::optional<tlsa_record> decode_tlsa(std::span<const unsigned char> rdata);

unusable_reason why_unusable(const tlsa_record& r) noexcept;
inline bool usable(const tlsa_record& r) noexcept { return why_unusable(r) == unusable_reason::none; }

// "3 1 1 e3b0c442..." (zone-file presentation, data in lower-case hex). At
// most `max_hex` hex digits of the data, then "..." (a full-certificate
// record would make a log line of kilobytes).
std::string to_text(const tlsa_record& r, std::size_t max_hex = 64);

}  // namespace dsproxy::dane
