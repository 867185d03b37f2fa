// test_pki — see test_pki.hpp.
#include "test_pki.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace dsproxy::tls::test {

namespace {

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    x509_extension_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || !X509_add_ext(cert, ext.get(), -1)) throw std::runtime_error("test_pki: extension " + value);
}

long next_serial() {
    static std::atomic<long> serial{1000};
    return ++serial;
}

}  // namespace

evp_pkey_ptr rsa_key(int bits) {
    return evp_pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
}

evp_pkey_ptr ec_key(const char* curve) { return evp_pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)); }

issued sign(const leaf_options& o, evp_pkey_ptr key, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
    if (!key) key = ec_key();
    x509_ptr cert(X509_new());
    X509_set_version(cert.get(), o.v1 ? X509_VERSION_1 : X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), next_serial());
    x509_name_ptr name(X509_NAME_new());
    if (!o.cn.empty())
        X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(o.cn.data()), static_cast<int>(o.cn.size()),
                                   -1, 0);
    X509_set_subject_name(cert.get(), name.get());
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name.get());
    X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, o.not_before, nullptr);
    X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, o.not_after, nullptr);
    X509_set_pubkey(cert.get(), key.get());
    X509* signer = issuer ? issuer : cert.get();
    if (!o.v1) {
        add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
        if (issuer) add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid");
        if (ca) {
            add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
            add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
        } else {
            add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
            switch (o.usage) {
            case eku::none: break;
            case eku::server: add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth"); break;
            case eku::client: add_ext(cert.get(), signer, NID_ext_key_usage, "clientAuth"); break;
            case eku::server_and_client: add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth"); break;
            case eku::email: add_ext(cert.get(), signer, NID_ext_key_usage, "emailProtection"); break;
            }
        }
        if (!o.dns.empty()) {
            std::string san;
            for (const auto& d : o.dns) san += (san.empty() ? "DNS:" : ",DNS:") + d;
            add_ext(cert.get(), signer, NID_subject_alt_name, san);
        }
    }
    if (!X509_sign(cert.get(), issuer_key ? issuer_key : key.get(), EVP_sha256()))
        throw std::runtime_error("test_pki: cannot sign");
    return {std::move(cert), std::move(key)};
}

pki::pki() {
    leaf_options r;
    r.cn = "dsproxy test root";
    r.not_before = -30 * day;
    r.not_after = 3650 * day;
    root = sign(r, ec_key(), nullptr, nullptr, true);
    leaf_options i;
    i.cn = "dsproxy test intermediate";
    i.not_before = -30 * day;
    i.not_after = 1825 * day;
    intermediate = sign(i, ec_key(), root.cert.get(), root.key.get(), true);
}

issued pki::leaf(const leaf_options& o, evp_pkey_ptr key) const {
    return sign(o, std::move(key), intermediate.cert.get(), intermediate.key.get(), false);
}

issued pki::self_signed(const leaf_options& o, evp_pkey_ptr key) const {
    return sign(o, std::move(key), nullptr, nullptr, false);
}

x509_crl_ptr pki::crl(const std::vector<X509*>& revoked, long next_update, bool by_root) const {
    const issued& ca = by_root ? root : intermediate;
    x509_crl_ptr crl(X509_CRL_new());
    X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2);
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.cert.get()));
    asn1_time_ptr last(X509_time_adj_ex(nullptr, 0, -day, nullptr));
    asn1_time_ptr next(X509_time_adj_ex(nullptr, 0, next_update, nullptr));
    X509_CRL_set1_lastUpdate(crl.get(), last.get());
    X509_CRL_set1_nextUpdate(crl.get(), next.get());
    for (X509* c : revoked) {
        X509_REVOKED* r = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(c));
        X509_REVOKED_set_revocationDate(r, last.get());
        X509_CRL_add0_revoked(crl.get(), r);
    }
    X509_CRL_sort(crl.get());
    X509_CRL_sign(crl.get(), ca.key.get(), EVP_sha256());
    return crl;
}

std::vector<x509_ptr> pki::chain() const {
    std::vector<x509_ptr> out;
    out.push_back(copy(intermediate.cert.get()));
    return out;
}

x509_ptr copy(X509* c) {
    X509_up_ref(c);
    return x509_ptr(c);
}

std::shared_ptr<const credential> credential_of(const issued& i, std::vector<x509_ptr> chain,
                                                const trust_store* trust, certificate_use use) {
    EVP_PKEY_up_ref(i.key.get());
    load_problem problem;
    auto c = make_credential(copy(i.cert.get()), std::move(chain), evp_pkey_ptr(i.key.get()), use, trust, problem);
    if (!c) throw std::runtime_error("test_pki: credential refused: " + problem.detail);
    return c;
}

temp_dir::temp_dir() {
    std::string templ = (std::filesystem::temp_directory_path() / "dsproxy-tls-XXXXXX").string();
    if (!mkdtemp(templ.data())) throw std::runtime_error("test_pki: mkdtemp");
    path = templ;
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

}  // namespace dsproxy::tls::test
