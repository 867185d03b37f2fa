// pkcs12_io — PKCS#12 (.pfx, .p12) files, as Windows and Exchange export them
// (Export-ExchangeCertificate, Export-PfxCertificate) and import them
// (Import-ExchangeCertificate -Password), docs/design.md §4.2.
//
// Owns: recognising a PKCS#12 file, opening it with its password (the MAC is
// checked first, so a wrong password is said as such), putting its
// certificates in chain order (leaf, its issuer, that one's issuer ...),
// and writing one: the key, the leaf with a friendly name, the chain, under
// OpenSSL 3's defaults (AES-256-CBC, PBKDF2, an HMAC-SHA-256 MAC), which
// Windows Server 2019 and later import.
// Older Windows exports (RC2-40 or 3DES, as Windows Server 2012 writes them)
// need OpenSSL's legacy provider for RC2: it is loaded when the default one
// cannot decrypt.
// Must not: prompt for or store passwords (the CLI reads them), write files,
// or decide whether a certificate is acceptable (certificate_store does).
#pragma once

#include "tls/openssl_handles.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::tls {

struct pkcs12_contents {
    x509_ptr leaf;                // the certificate of the key
    std::vector<x509_ptr> chain;  // the others, in chain order
    evp_pkey_ptr key;
    std::string friendly_name;    // the leaf's, when the file has one
};

// True when `bytes` are a DER PKCS#12 structure.
bool is_pkcs12(std::string_view bytes);

// True when the file opens with `password` (its MAC verifies).
bool pkcs12_password_ok(std::string_view bytes, const std::string& password);

// The key and certificates of a PKCS#12 file. On failure returns nullopt and
// one sentence ("wrong password", "no private key in ...", ...).
std::optional<pkcs12_contents> parse_pkcs12(std::string_view bytes, const std::string& password, std::string& error);

// A PKCS#12 file of `key`, `leaf` (named `friendly_name`) and `chain`.
// Empty on failure, with the reason in `error`.
std::string make_pkcs12(EVP_PKEY& key, X509& leaf, const std::vector<x509_ptr>& chain,
                        const std::string& friendly_name, const std::string& password, std::string& error);

// `certs` in chain order starting from `leaf`: each next one the issuer of
// the one before (signature checked); certificates outside the chain follow
// in their given order.
std::vector<x509_ptr> order_chain(X509& leaf, std::vector<x509_ptr> certs);

}  // namespace dsproxy::tls
