// auto_selfsigned — the certificate dsproxy makes for itself on first start
// (docs/design.md §4.1, what Exchange does at installation): self-signed, for the
// listener's fqdn plus the accepted domains, valid 12 months, key mode 0600.
//
// Owns: deciding that one is needed (the store has no certificate for the
// fqdn) and creating <directory>/<fqdn>.key and <directory>/<fqdn>.pem.
// Must not: overwrite an existing key, log (the caller logs the result).
#pragma once

#include "tls/certificate_builder.hpp"
#include "tls/certificate_store.hpp"

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::tls {

struct auto_selfsigned_request {
    std::string directory;                      // the store directory to write into
    std::string fqdn;                           // CN and first SAN
    std::vector<std::string> accepted_domains;  // also in the SAN (Unicode converted to A-labels)
    std::string key_type{default_key_spec};
    int days = default_validity_days;
};

struct auto_selfsigned_result {
    bool created = false;                       // false: the store already covers the fqdn
    std::shared_ptr<const credential> cert;     // the new credential (add it to the store)
    std::string certificate_path, key_path;
};

// Creates the certificate when `store` has none for the fqdn. On failure
// returns nullopt and a sentence.
std::optional<auto_selfsigned_result> ensure_self_signed(const certificate_store& store,
                                                         const auto_selfsigned_request& request, std::time_t now,
                                                         std::string& error);

}  // namespace dsproxy::tls
