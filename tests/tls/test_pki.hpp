// test_pki — a PKI made with the OpenSSL API at test time: keys, a root CA,
// an intermediate, leaves with chosen names, validity, key types and EKUs,
// CRLs. Nothing is read from disk, so every test states its certificates.
#pragma once

#include "tls/certificate_store.hpp"
#include "tls/openssl_handles.hpp"

#include <ctime>
#include <memory>
#include <string>
#include <vector>

namespace dsproxy::tls::test {

inline constexpr long day = 24 * 60 * 60;

evp_pkey_ptr rsa_key(int bits = 2048);
evp_pkey_ptr ec_key(const char* curve = "P-256");

enum class eku { none, server, client, server_and_client, email };

struct leaf_options {
    std::string cn;
    std::vector<std::string> dns;   // SAN dNSNames (none: no SAN extension)
    long not_before = -day;         // seconds relative to now
    long not_after = 365 * day;
    eku usage = eku::server_and_client;
    bool v1 = false;                // X.509 v1: no extensions at all
};

struct issued {
    x509_ptr cert;
    evp_pkey_ptr key;
};

struct pki {
    issued root;          // self-signed CA
    issued intermediate;  // CA signed by root

    pki();
    // A leaf signed by the intermediate (`by_root`: by the root), or self-signed.
    issued leaf(const leaf_options& o, evp_pkey_ptr key = nullptr) const;
    issued self_signed(const leaf_options& o, evp_pkey_ptr key = nullptr) const;
    // A CRL of the intermediate revoking `revoked`; next update relative to now.
    x509_crl_ptr crl(const std::vector<X509*>& revoked, long next_update = 7 * day, bool by_root = false) const;
    std::vector<x509_ptr> chain() const;  // the intermediate, as a server sends it
};

issued sign(const leaf_options& o, evp_pkey_ptr key, X509* issuer, EVP_PKEY* issuer_key, bool ca);

// A credential for the store from an issued certificate.
std::shared_ptr<const credential> credential_of(const issued& i, std::vector<x509_ptr> chain = {},
                                                const trust_store* trust = nullptr,
                                                certificate_use use = certificate_use::server);

x509_ptr copy(X509* c);

// A fresh temporary directory, removed with the object.
struct temp_dir {
    std::string path;
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    std::string file(const std::string& name) const { return path + "/" + name; }
};

}  // namespace dsproxy::tls::test
