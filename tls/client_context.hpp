// client_context — the SSL_CTX for upstream legs (docs/design.md §3, §6.1, §6.3).
//
// Owns: a client SSL_CTX per TLS setting set (policy `min_tls`, `ciphers`),
// and per connection: SNI set to the upstream host name (never to an IP
// literal, RFC 6066 §3), the client certificate to present (chosen by the
// caller with select_certificate(use = client): the listener's fqdn or the
// policy's `client_certificate`), and a handshake that accepts any chain so
// that peer_verification decides afterwards against the policy's trust
// store (global or its `ca_file`). DANE is enabled on every client context
// (tls/dane_verification); a session uses it only when given TLSA records.
// Must not: log, or decide the policy.
#pragma once

#include "tls/certificate_store.hpp"
#include "tls/context_settings.hpp"
#include "tls/dane_verification.hpp"
#include "tls/openssl_handles.hpp"
#include "tls/trust_store.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::tls {

struct client_settings {
    tls_settings tls;
    std::shared_ptr<const trust_store> trust;  // for SSL_get_verify_result only; may be null
};

class client_context {
public:
    static std::optional<client_context> create(const client_settings& settings, std::string& error);

    SSL_CTX* native() const noexcept { return ctx_.get(); }

    // A client SSL object for a connection to `host` (SNI unless an IP
    // literal or empty) presenting `certificate` when given. With `dane`,
    // the TLSA records are attached and the SNI is the TLSA base domain
    // (RFC 7672 §8.1). Null on failure with a sentence in `error`.
    ssl_ptr new_session(std::string_view host, const credential* certificate, std::string& error,
                        const dane_request* dane = nullptr) const;

private:
    explicit client_context(ssl_ctx_ptr ctx) : ctx_(std::move(ctx)) {}
    ssl_ctx_ptr ctx_;
};

}  // namespace dsproxy::tls
