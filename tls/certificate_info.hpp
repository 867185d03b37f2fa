// certificate_info — what an administrator (and the store) needs to know about
// one certificate: thumbprints, subject, issuer, names, validity, key type.
//
// Owns: the read-only description of an X509 — fingerprints in Exchange's
// style (SHA-1 thumbprint, upper-case hex without separators) and SHA-256,
// one-line RFC 2253 subject/issuer text (UTF-8 kept), the validity window as
// time_t, whether it is self-signed, and the key algorithm and size.
// Must not: decide acceptability or selection; do I/O.
#pragma once

#include <openssl/x509.h>

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::tls {

enum class key_algorithm { rsa, ecdsa, other };

struct key_description {
    key_algorithm algorithm = key_algorithm::other;
    int bits = 0;        // RSA modulus size or EC field size
    std::string curve;   // "P-256", "P-384" for ECDSA
    std::string text() const;  // "rsa:2048", "ec:p256", "other(ED25519)"
};

key_description describe_key(const EVP_PKEY& key);

struct certificate_info {
    std::string sha1_thumbprint;  // Exchange's Thumbprint: 40 upper-case hex digits
    std::string sha256;           // 64 upper-case hex digits
    std::string subject;          // RFC 2253, UTF-8
    std::string issuer;
    std::vector<std::string> dns_names;     // SAN dNSNames, as presented
    std::vector<std::string> common_names;  // subject CNs, UTF-8
    std::time_t not_before = 0;
    std::time_t not_after = 0;
    bool self_signed = false;
    long version = 0;  // 1, 2 or 3 (as people count, not the encoded 0..2)
    key_description key;
    std::string serial;  // hex
};

certificate_info describe(X509& cert);

// "2025-06-01 12:00:00 UTC"
std::string format_utc(std::time_t t);

// Upper-case hex of a digest of `cert`'s DER encoding.
std::string fingerprint(X509& cert, const EVP_MD* md);

// Normalises a thumbprint written by a person ("c4:24:8c...", spaces,
// lower case) to upper-case hex; nullopt unless it is 40 or 64 hex digits.
std::optional<std::string> normalize_thumbprint(std::string_view text);

}  // namespace dsproxy::tls
