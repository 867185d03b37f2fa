// pkcs12_io — see pkcs12_io.hpp.
#include "tls/pkcs12_io.hpp"

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

namespace dsproxy::tls {

namespace {

using pkcs12_ptr = std::unique_ptr<PKCS12, openssl_deleter<&PKCS12_free>>;

pkcs12_ptr decode(std::string_view bytes) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    pkcs12_ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(bytes.size())));
    ERR_clear_error();
    return p12;
}

// PKCS#12 treats a NULL and an empty password differently (Windows writes
// both); an empty one is tried both ways.
bool mac_ok(PKCS12& p12, const std::string& password) {
    if (PKCS12_verify_mac(&p12, password.c_str(), static_cast<int>(password.size())) == 1) return true;
    return password.empty() && PKCS12_verify_mac(&p12, nullptr, 0) == 1;
}

bool parse_with(PKCS12& p12, const char* password, pkcs12_contents& out) {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* ca = nullptr;
    if (PKCS12_parse(&p12, password, &key, &cert, &ca) != 1) return false;
    out.key.reset(key);
    out.leaf.reset(cert);
    x509_stack_ptr owned(ca);
    std::vector<x509_ptr> others;
    for (int i = 0; ca && i < sk_X509_num(ca); ++i) {
        X509* c = sk_X509_value(ca, i);
        X509_up_ref(c);
        others.emplace_back(c);
    }
    if (out.leaf) {
        int len = 0;
        if (const unsigned char* alias = X509_alias_get0(out.leaf.get(), &len); alias && len > 0)
            out.friendly_name.assign(reinterpret_cast<const char*>(alias), static_cast<std::size_t>(len));
        out.chain = order_chain(*out.leaf, std::move(others));
    }
    return true;
}

}  // namespace

bool is_pkcs12(std::string_view bytes) { return decode(bytes) != nullptr; }

bool pkcs12_password_ok(std::string_view bytes, const std::string& password) {
    auto p12 = decode(bytes);
    const bool ok = p12 && mac_ok(*p12, password);
    ERR_clear_error();
    return ok;
}

std::optional<pkcs12_contents> parse_pkcs12(std::string_view bytes, const std::string& password,
                                            std::string& error) {
    auto p12 = decode(bytes);
    if (!p12) {
        error = "not a PKCS#12 file";
        return std::nullopt;
    }
    if (!mac_ok(*p12, password)) {
        ERR_clear_error();
        error = "wrong password for the PKCS#12 file";
        return std::nullopt;
    }
    // mac_ok accepted the password as given, or (empty) as NULL.
    const char* pass = password.c_str();
    if (PKCS12_verify_mac(p12.get(), pass, static_cast<int>(password.size())) != 1) pass = nullptr;
    pkcs12_contents out;
    bool ok = parse_with(*p12, pass, out);
    if (!ok) {
        // RC2-40 (older Windows exports) is in OpenSSL 3's legacy provider only.
        ERR_clear_error();
        static OSSL_PROVIDER* legacy = OSSL_PROVIDER_try_load(nullptr, "legacy", /*retain_fallbacks=*/1);
        ok = legacy && parse_with(*p12, pass, out);
    }
    ERR_clear_error();
    if (!ok) {
        error = "cannot decrypt the PKCS#12 file (an algorithm OpenSSL does not offer)";
        return std::nullopt;
    }
    if (!out.key) {
        error = "no private key in the PKCS#12 file; export it with its private key";
        return std::nullopt;
    }
    if (!out.leaf) {
        error = "no certificate for the private key in the PKCS#12 file";
        return std::nullopt;
    }
    return out;
}

std::string make_pkcs12(EVP_PKEY& key, X509& leaf, const std::vector<x509_ptr>& chain,
                        const std::string& friendly_name, const std::string& password, std::string& error) {
    x509_borrowed_stack_ptr ca(sk_X509_new_null());
    for (const auto& c : chain) sk_X509_push(ca.get(), c.get());
    // nid 0 and iterations 0: OpenSSL 3's defaults (AES-256-CBC, PBKDF2 with
    // 2048 iterations, HMAC-SHA-256 MAC).
    pkcs12_ptr p12(PKCS12_create(password.c_str(), friendly_name.empty() ? nullptr : friendly_name.c_str(), &key,
                                 &leaf, ca.get(), 0, 0, 0, 0, 0));
    if (!p12) {
        ERR_clear_error();
        error = "cannot build the PKCS#12 file";
        return {};
    }
    unsigned char* der = nullptr;
    const int len = i2d_PKCS12(p12.get(), &der);
    if (len <= 0) {
        ERR_clear_error();
        error = "cannot encode the PKCS#12 file";
        return {};
    }
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

std::vector<x509_ptr> order_chain(X509& leaf, std::vector<x509_ptr> certs) {
    std::vector<x509_ptr> out;
    X509* current = &leaf;
    for (bool found = true; found && !certs.empty();) {
        found = false;
        for (auto it = certs.begin(); it != certs.end(); ++it) {
            // A self-signed root is its own issuer: stop there.
            if (it->get() == current || X509_cmp(it->get(), current) == 0) continue;
            if (X509_check_issued(it->get(), current) != X509_V_OK) continue;
            current = it->get();
            out.push_back(std::move(*it));
            certs.erase(it);
            found = true;
            break;
        }
    }
    for (auto& c : certs) out.push_back(std::move(c));
    return out;
}

}  // namespace dsproxy::tls
