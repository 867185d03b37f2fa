// server_context — the SSL_CTX of one listener (docs/design.md §3, §4.1).
//
// Owns: an SSL_CTX with the hardened settings, the certificate chosen per
// handshake in the ClientHello callback (SNI and the client's signature
// algorithms read there, certificate_selection decides), client
// certificates requested but not required (SSL_VERIFY_PEER without
// FAIL_IF_NO_PEER_CERT; the chain is judged after the handshake by
// peer_verification), and session tickets under ticket_keys that can be
// swapped at run time (rotation) while handshakes run on other threads.
// Stateful session cache off: tickets only, so instances share nothing but
// the key file.
// Must not: log, or read the configuration — the lead's proxy/ code turns
// config into server_settings.
#pragma once

#include "tls/certificate_selection.hpp"
#include "tls/certificate_store.hpp"
#include "tls/context_settings.hpp"
#include "tls/openssl_handles.hpp"
#include "tls/ticket_keys.hpp"
#include "tls/trust_store.hpp"

#include <atomic>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace dsproxy::tls {

struct server_settings {
    tls_settings tls;
    selection_policy certificate;  // fqdn, pin, fallback (use must be server)
    bool request_client_certificate = true;
    std::shared_ptr<const ticket_keys> tickets;  // null: a random key of this instance only
    std::shared_ptr<const trust_store> client_trust;  // for SSL_get_verify_result only; may be null
};

class server_context {
public:
    static std::optional<server_context> create(std::shared_ptr<const certificate_store> store,
                                                server_settings settings, std::string& error);

    ~server_context();
    server_context(server_context&&) noexcept;
    server_context& operator=(server_context&&) noexcept;

    SSL_CTX* native() const noexcept { return ctx_.get(); }

    // A new server-side SSL object for one connection.
    ssl_ptr new_session() const;

    // The certificate a client without SNI would get now. When it is empty
    // the listener must not advertise STARTTLS and should log `reason`.
    selection default_selection(std::time_t now) const;

    // Swaps the ticket keys (rotation); handshakes in flight keep the old set.
    void set_ticket_keys(std::shared_ptr<const ticket_keys> keys);

    // The clock used for selection (tests pin it); std::time(nullptr) by default.
    void set_clock(std::function<std::time_t()> clock);

    struct state;  // what the callbacks see; defined in the .cpp

private:
    server_context(ssl_ctx_ptr ctx, std::unique_ptr<state> st);
    std::unique_ptr<state> state_;
    ssl_ctx_ptr ctx_;
};

// Presents `c` (certificate, key, chain) on `ssl`; false if OpenSSL refuses.
bool use_credential(SSL& ssl, const credential& c);

// Reads the SNI host name out of a server_name extension body; empty if none.
std::string parse_server_name(const unsigned char* data, std::size_t len);
// True when a signature_algorithms extension body lists an ECDSA scheme.
bool offers_ecdsa(const unsigned char* data, std::size_t len);

}  // namespace dsproxy::tls
