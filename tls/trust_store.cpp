// trust_store — see trust_store.hpp.
#include "tls/trust_store.hpp"

#include "tls/pem_io.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace dsproxy::tls {

namespace {

std::vector<x509_crl_ptr> parse_crls(const std::string& bytes) {
    std::vector<x509_crl_ptr> out;
    bio_ptr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    while (X509_CRL* c = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
    if (out.empty()) {
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        if (X509_CRL* c = d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size()))) out.emplace_back(c);
    }
    ERR_clear_error();
    return out;
}

}  // namespace

std::optional<trust_store> trust_store::load(const trust_settings& settings, std::string& error) {
    x509_store_ptr store(X509_STORE_new());
    if (settings.system) {
        X509_STORE_set_default_paths(store.get());
        ERR_clear_error();
    }
    for (const auto& path : settings.ca_files) {
        auto bytes = read_file(path, error);
        if (!bytes) return std::nullopt;
        auto certs = parse_certificates(*bytes);
        if (certs.empty()) {
            error = "no CA certificate in " + path;
            return std::nullopt;
        }
        for (auto& c : certs) X509_STORE_add_cert(store.get(), c.get());
    }
    if (!settings.ca_dir.empty() && X509_STORE_load_path(store.get(), settings.ca_dir.c_str()) != 1) {
        ERR_clear_error();
        error = "cannot use " + settings.ca_dir + " as a CA directory";
        return std::nullopt;
    }
    for (const auto& path : settings.crl_files) {
        auto bytes = read_file(path, error);
        if (!bytes) return std::nullopt;
        auto crls = parse_crls(*bytes);
        if (crls.empty()) {
            error = "no CRL in " + path;
            return std::nullopt;
        }
        for (auto& c : crls) X509_STORE_add_crl(store.get(), c.get());
    }
    ERR_clear_error();
    return trust_store(std::move(store), !settings.crl_files.empty());
}

trust_store trust_store::from(const std::vector<X509*>& anchors, const std::vector<X509_CRL*>& crls) {
    x509_store_ptr store(X509_STORE_new());
    for (X509* c : anchors) X509_STORE_add_cert(store.get(), c);
    for (X509_CRL* c : crls) X509_STORE_add_crl(store.get(), c);
    ERR_clear_error();
    return trust_store(std::move(store), !crls.empty());
}

}  // namespace dsproxy::tls
