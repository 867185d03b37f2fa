// certificate_import — installing a certificate in the store (the seed's
// Import-ExchangeCertificate, docs/design.md §4.2).
//
// Owns: reading the input — PEM, DER or PKCS#7 (.p7b) with the key a request
// made in the store; PEM with the key in it or in a separate file (`--key`,
// certbot's fullchain.pem + privkey.pem); PKCS#12 (.pfx/.p12, Exchange's
// export) with its key and chain — finding the leaf by its key, putting its
// chain after it in order, checking the pair with the store's docs/design.md
// §4.1 rules, and choosing the file it goes to:
//   - the key is a *.key of the store (a request's): <key stem>.pem beside it,
//     the certificates only;
//   - else: <first DNS name>.pem (a wildcard as "wildcard.<parent>"), the
//     certificates and the key in one file, mode 0600, so that a renewal with
//     a new key replaces both in one rename.
// Nothing is written here: the file is staged in a file_transaction the
// caller commits (with its own files, e.g. a listener pin), so that a failure
// anywhere leaves the store as it was.
// Refuses, unless forced, to replace a file whose chain certificates the
// input lacks (a leaf-only re-import would break partners' chain checks).
// Must not: accept a certificate without its key, prompt (the password comes
// from the caller's callback), or log.
#pragma once

#include "tls/certificate_store.hpp"
#include "tls/file_transaction.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::tls {

struct import_request {
    std::string input;      // the file to import
    std::string store_dir;  // the store directory
    std::string key_file;   // the certificate's private key (PEM), when not in the store or the input
    // PKCS#12 only: called when the file does not open without a password;
    // nullopt: none can be had.
    std::function<std::optional<std::string>()> password;
    bool force = false;     // replace even when chain certificates would be dropped
    // Stored with the certificate; empty: the PKCS#12 file's, else the
    // replaced file's (a renewal keeps the name).
    std::string friendly_name;
};

struct import_result {
    std::string certificate_path;
    std::string key_path;  // == certificate_path when the key is written into it
    std::shared_ptr<const credential> cert;
    std::string format;    // "PEM", "DER", "PKCS#7", "PKCS#12"
    bool replaces = false;                   // an existing certificate file is replaced
    std::vector<std::string> dropped_chain;  // subjects the replaced file had and the input lacks (forced)
    file_transaction files;                  // staged, not committed
};

std::optional<import_result> prepare_import(const import_request& request, std::string& error);

// A file name stem for a certificate: its first DNS name (or CN) when that is
// a host name, `*` as "wildcard"; else "certificate".
std::string certificate_stem(const certificate_info& info);

}  // namespace dsproxy::tls
