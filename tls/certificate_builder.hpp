// certificate_builder — new keys, PKCS#10 requests and self-signed
// certificates (the seed's New-ExchangeCertificate).
//
// Owns: key generation for the supported key types (rsa:2048 default,
// rsa:3072, rsa:4096, ec:p256, ec:p384), and the X.509 v3 content dsproxy
// signs: the subject in the order given, the SAN dNSNames, keyUsage,
// extendedKeyUsage serverAuth+clientAuth (a mail server is a TLS client on the
// outbound leg and presents the same certificate for Domain Security), a
// random 128-bit serial, SHA-256 signatures.
// Must not: validate names (subject_name / san_names do, before this), write
// files, or log.
#pragma once

#include "tls/certificate_info.hpp"
#include "tls/openssl_handles.hpp"
#include "tls/subject_name.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::tls {

struct key_spec {
    key_algorithm algorithm = key_algorithm::rsa;
    int bits = 2048;     // RSA
    std::string curve;   // "P-256" / "P-384" for ECDSA

    // "rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384"; nullopt otherwise.
    static std::optional<key_spec> parse(std::string_view text);
};

inline constexpr std::string_view default_key_spec = "rsa:2048";
inline constexpr int default_validity_days = 365;  // 12 months, as Exchange's installer certificate

evp_pkey_ptr generate_key(const key_spec& spec);

struct certificate_template {
    subject_rdns subject;
    std::vector<std::string> dns_names;  // already A-labels (san_names)
    int days = default_validity_days;
};

// Subject as an X509_NAME (C as PrintableString, DC as IA5String, others UTF8String).
x509_name_ptr make_name(const subject_rdns& subject, std::string& error);

x509_req_ptr build_request(const certificate_template& t, EVP_PKEY& key, std::string& error);
x509_ptr build_self_signed(const certificate_template& t, EVP_PKEY& key, std::string& error);

// The subject RDNs of an existing certificate, in order, for --from (clone);
// attribute types dsproxy does not write are reported in `skipped`.
subject_rdns subject_of(X509& cert, std::vector<std::string>& skipped);

}  // namespace dsproxy::tls
