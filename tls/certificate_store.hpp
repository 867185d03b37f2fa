// certificate_store — the local certificates dsproxy can present (docs/design.md §4.1).
//
// Owns: loading certificate+key pairs from files and directories, refusing
// each unacceptable one with a named store_error, and indexing the accepted
// ones by the names they present (SAN dNSNames; the CNs only when there is no
// dNSName SAN). Once loaded, a store is immutable: contexts share it through
// shared_ptr and a reload builds a new one (SIGHUP is atomic).
//
// Layout of a directory source: every *.pem, *.crt or *.cer file is a
// certificate (leaf first, then its chain); its key is in the same file or in
// the file with the same stem and ".key". Lone *.key files (a request waiting
// for its certificate) and *.csr/*.req files are not certificates.
//
// Must not: choose a certificate (certificate_selection does), log, or
// depend on the configuration module — its inputs are the plain structs below.
// Threat: a private key readable by others is refused unless allowed (§10).
#pragma once

#include "tls/certificate_info.hpp"
#include "tls/openssl_handles.hpp"
#include "tls/store_error.hpp"
#include "tls/trust_store.hpp"

#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace dsproxy::tls {

// What a certificate is for: serverAuth is required of server certificates,
// clientAuth of certificates used only as client certificates.
enum class certificate_use { server, client };

struct store_source {
    std::string path;      // a certificate file or a directory
    std::string key_path;  // for a file: its key, when neither in it nor at <stem>.key
    certificate_use use = certificate_use::server;
};

struct store_options {
    bool allow_readable_keys = false;          // accept keys readable by group/others
    const trust_store* trust = nullptr;        // for "chains to the trust store"; null: nothing chains
};

// One accepted certificate with its key and chain.
struct credential {
    x509_ptr certificate;
    std::vector<x509_ptr> chain;  // intermediates, as given after the leaf
    evp_pkey_ptr key;
    std::string certificate_path;
    std::string key_path;
    certificate_info info;
    std::vector<std::string> names;  // canonical names it is indexed under
    std::string friendly_name;       // from its PEM file (pem_io friendly_name_of); may be empty
    certificate_use use = certificate_use::server;
    bool chains_to_trust = false;    // leaf + chain verify against the trust store (time ignored)
    bool server_auth = true;         // EKU absent or allows serverAuth
    bool client_auth = true;         // EKU absent or allows clientAuth

    bool valid_at(std::time_t now) const noexcept { return info.not_before <= now && now <= info.not_after; }
};

struct load_problem {
    std::string path;
    std::error_code error;  // store_category
    std::string detail;     // the sentence for the log
};

// Checks `cert`+`key` against docs/design.md §4.1 and builds a credential. On refusal
// returns null and fills `problem` (path fields left to the caller).
std::shared_ptr<const credential> make_credential(x509_ptr cert, std::vector<x509_ptr> chain, evp_pkey_ptr key,
                                                  certificate_use use, const trust_store* trust,
                                                  load_problem& problem);

class certificate_store {
public:
    // Loads every source; refused certificates are reported in `problems`
    // and left out, the others are loaded.
    static certificate_store load(const std::vector<store_source>& sources, const store_options& options,
                                  std::vector<load_problem>& problems);

    void add(std::shared_ptr<const credential> c);

    const std::vector<std::shared_ptr<const credential>>& all() const noexcept { return all_; }

    // Credentials presenting exactly `name` (canonical: lower case, no trailing dot).
    std::vector<std::shared_ptr<const credential>> exact(const std::string& name) const;
    // Credentials presenting "*." + the parent of `name` (one label covered).
    std::vector<std::shared_ptr<const credential>> wildcard(const std::string& name) const;

private:
    std::vector<std::shared_ptr<const credential>> all_;
    std::unordered_map<std::string, std::vector<std::size_t>> exact_;     // name -> index in all_
    std::unordered_map<std::string, std::vector<std::size_t>> wildcard_;  // parent of "*." name -> index
};

}  // namespace dsproxy::tls
