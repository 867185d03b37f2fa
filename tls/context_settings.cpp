// context_settings — see context_settings.hpp.
#include "tls/context_settings.hpp"

#include <openssl/err.h>

#include <memory>

namespace dsproxy::tls {

std::optional<int> parse_tls_version(std::string_view text) noexcept {
    if (text == "1.2" || text == "TLSv1.2") return TLS1_2_VERSION;
    if (text == "1.3" || text == "TLSv1.3") return TLS1_3_VERSION;
    return std::nullopt;
}

bool apply_settings(SSL_CTX& ctx, const tls_settings& settings, std::string& error) {
    if (settings.min_version < TLS1_2_VERSION) {
        error = "TLS versions below 1.2 are not supported";
        return false;
    }
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(&ctx, SSL_MODE_RELEASE_BUFFERS);
    bool ok = SSL_CTX_set_min_proto_version(&ctx, settings.min_version) == 1;
    if (!ok) error = "cannot set the minimum TLS version";
    if (ok && SSL_CTX_set_cipher_list(&ctx, settings.ciphers.c_str()) != 1) {
        error = "no usable TLS 1.2 cipher in '" + settings.ciphers + "'";
        ok = false;
    }
    if (ok && SSL_CTX_set_ciphersuites(&ctx, settings.ciphersuites.c_str()) != 1) {
        error = "no usable TLS 1.3 cipher suite in '" + settings.ciphersuites + "'";
        ok = false;
    }
    if (ok && SSL_CTX_set1_groups_list(&ctx, settings.groups.c_str()) != 1) {
        error = "unknown group in '" + settings.groups + "'";
        ok = false;
    }
    if (ok) SSL_CTX_set_num_tickets(&ctx, settings.tls13_tickets);
    ERR_clear_error();
    return ok;
}

std::optional<std::vector<std::string>> tls12_cipher_names(const std::string& list, std::string& error) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_method()), SSL_CTX_free);
    if (!ctx) {
        error = "cannot create an SSL_CTX";
        return std::nullopt;
    }
    if (SSL_CTX_set_cipher_list(ctx.get(), list.c_str()) != 1) {
        ERR_clear_error();
        error = "no usable TLS 1.2 cipher in '" + list + "'";
        return std::nullopt;
    }
    std::vector<std::string> names;
    const STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
        // The list also holds the TLS 1.3 suites, which a cipher list does not govern.
        if (std::string_view(SSL_CIPHER_get_version(c)) != "TLSv1.3") names.emplace_back(SSL_CIPHER_get_name(c));
    }
    if (names.empty()) {
        error = "no usable TLS 1.2 cipher in '" + list + "'";
        return std::nullopt;
    }
    return names;
}

int accept_any_chain(int, X509_STORE_CTX*) { return 1; }

}  // namespace dsproxy::tls
