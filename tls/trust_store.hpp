// trust_store — the trust anchors and CRLs that peer chains are verified
// against: the global store, or a partner's own `ca_file` (docs/design.md §6.1).
//
// Owns: one X509_STORE (shared, reference-counted by OpenSSL, immutable after
// construction so that handshakes on several threads can read it) and
// whether CRLs were loaded into it.
// Must not: verify anything itself (peer_verification does) or log.
#pragma once

#include "tls/openssl_handles.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dsproxy::tls {

struct trust_settings {
    bool system = false;                 // OpenSSL's default paths (the system's trust store)
    std::vector<std::string> ca_files;   // PEM bundles of anchors
    std::string ca_dir;                  // OpenSSL hashed directory of anchors; empty: none
    std::vector<std::string> crl_files;  // PEM or DER CRLs; empty: no revocation checks
};

class trust_store {
public:
    // Loads `settings`. On failure returns nullopt and a sentence naming the file.
    static std::optional<trust_store> load(const trust_settings& settings, std::string& error);

    // A store holding exactly these anchors and CRLs (tests, and partners
    // whose CA is given inline).
    static trust_store from(const std::vector<X509*>& anchors, const std::vector<X509_CRL*>& crls = {});

    X509_STORE* get() const noexcept { return store_.get(); }
    bool has_crls() const noexcept { return has_crls_; }

private:
    trust_store(x509_store_ptr store, bool has_crls) : store_(std::move(store)), has_crls_(has_crls) {}
    x509_store_ptr store_;
    bool has_crls_ = false;
};

}  // namespace dsproxy::tls
