// client_context — see client_context.hpp.
#include "tls/client_context.hpp"

#include "tls/server_context.hpp"

#include <openssl/err.h>

#include <arpa/inet.h>

namespace dsproxy::tls {

namespace {

bool is_ip_literal(const std::string& host) {
    unsigned char buf[16];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::optional<client_context> client_context::create(const client_settings& settings, std::string& error) {
    ssl_ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) {
        error = "cannot create a TLS client context";
        return std::nullopt;
    }
    if (!apply_settings(*ctx, settings.tls, error)) return std::nullopt;
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, accept_any_chain);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    if (!enable_dane(*ctx, error)) return std::nullopt;
    if (settings.trust) SSL_CTX_set1_cert_store(ctx.get(), settings.trust->get());
    ERR_clear_error();
    return client_context(std::move(ctx));
}

ssl_ptr client_context::new_session(std::string_view host, const credential* certificate, std::string& error,
                                    const dane_request* dane) const {
    ssl_ptr ssl(SSL_new(ctx_.get()));
    if (!ssl) {
        error = "cannot create a TLS client session";
        return nullptr;
    }
    const std::string name(dane ? std::string_view(dane->base_domain) : host);
    if (!name.empty() && !is_ip_literal(name) && SSL_set_tlsext_host_name(ssl.get(), name.c_str()) != 1) {
        ERR_clear_error();
        error = "cannot set SNI to '" + name + "'";
        return nullptr;
    }
    if (certificate && !use_credential(*ssl, *certificate)) {
        error = "cannot present the client certificate " + certificate->info.sha1_thumbprint;
        return nullptr;
    }
    if (dane && !attach_dane(*ssl, *dane, error)) return nullptr;
    SSL_set_connect_state(ssl.get());
    return ssl;
}

}  // namespace dsproxy::tls
