// certificate_import — installing an issued certificate next to the key its
// request created (the seed's Import-ExchangeCertificate, docs/design.md §4.2).
//
// Owns: reading PEM, DER or PKCS#7 (.p7b) input, finding among the store
// directory's *.key files the one whose public key the certificate carries,
// putting the leaf first and its chain after it, checking the pair with the
// store's docs/design.md §4.1 rules, and writing <key stem>.pem beside the key.
// Must not: accept a certificate whose key is not in the store, or log.
#pragma once

#include "tls/certificate_store.hpp"

#include <memory>
#include <optional>
#include <string>

namespace dsproxy::tls {

struct import_result {
    std::string certificate_path;
    std::string key_path;
    std::shared_ptr<const credential> cert;
};

std::optional<import_result> import_certificate(const std::string& input, const std::string& store_dir,
                                                std::string& error);

}  // namespace dsproxy::tls
