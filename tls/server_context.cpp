// server_context — see server_context.hpp.
#include "tls/server_context.hpp"

#include <openssl/err.h>

namespace dsproxy::tls {

bool use_credential(SSL& ssl, const credential& c) {
    // Borrowed pointers: SSL_use_cert_and_key takes its own references.
    x509_borrowed_stack_ptr chain(sk_X509_new_null());
    for (const auto& x : c.chain) sk_X509_push(chain.get(), x.get());
    const bool ok = SSL_use_cert_and_key(&ssl, c.certificate.get(), c.key.get(), chain.get(), 1) == 1;
    ERR_clear_error();
    return ok;
}

struct server_context::state {
    std::shared_ptr<const certificate_store> store;
    selection_policy policy;
    std::atomic<std::shared_ptr<const ticket_keys>> tickets;
    std::function<std::time_t()> clock = [] { return std::time(nullptr); };
};

namespace {

int ex_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

int on_client_hello(SSL* ssl, int* alert, void* arg) {
    const auto& st = *static_cast<const server_context::state*>(arg);
    handshake_hints hints;
    const unsigned char* data = nullptr;
    std::size_t len = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &len)) hints.sni = parse_server_name(data, len);
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_signature_algorithms, &data, &len))
        hints.offers_ecdsa = offers_ecdsa(data, len);
    const selection chosen = select_certificate(*st.store, st.policy, hints, st.clock());
    if (!chosen) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return use_credential(*ssl, *chosen.cert) ? SSL_CLIENT_HELLO_SUCCESS
                                              : (*alert = SSL_AD_INTERNAL_ERROR, SSL_CLIENT_HELLO_ERROR);
}

int on_ticket(SSL* ssl, unsigned char key_name[16], unsigned char iv[EVP_MAX_IV_LENGTH], EVP_CIPHER_CTX* cipher,
              EVP_MAC_CTX* mac, int encrypt) {
    const auto* st = static_cast<const server_context::state*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index()));
    const auto keys = st->tickets.load();
    return keys ? keys->on_ticket(key_name, iv, cipher, mac, encrypt) : (encrypt ? -1 : 0);
}

}  // namespace

std::string parse_server_name(const unsigned char* data, std::size_t len) {
    // RFC 6066 §3: list length (2), then entries of type (1), length (2), name.
    if (len < 2) return {};
    std::size_t list = (std::size_t{data[0]} << 8) | data[1];
    if (list + 2 != len) return {};
    std::size_t pos = 2;
    while (pos + 3 <= len) {
        const unsigned type = data[pos];
        const std::size_t n = (std::size_t{data[pos + 1]} << 8) | data[pos + 2];
        pos += 3;
        if (pos + n > len) return {};
        if (type == TLSEXT_NAMETYPE_host_name) return std::string(reinterpret_cast<const char*>(data + pos), n);
        pos += n;
    }
    return {};
}

bool offers_ecdsa(const unsigned char* data, std::size_t len) {
    // RFC 8446 §4.2.3: list length (2), then 2-byte schemes; ECDSA schemes
    // have 0x03 as their second byte (ecdsa_secp256r1_sha256 = 0x0403, ...).
    if (len < 2) return false;
    const std::size_t list = (std::size_t{data[0]} << 8) | data[1];
    if (list + 2 != len || list % 2 != 0) return false;
    for (std::size_t i = 2; i + 1 < len; i += 2)
        if (data[i + 1] == 0x03) return true;
    return false;
}

server_context::server_context(ssl_ctx_ptr ctx, std::unique_ptr<state> st)
    : state_(std::move(st)), ctx_(std::move(ctx)) {}

std::optional<server_context> server_context::create(std::shared_ptr<const certificate_store> store,
                                                     server_settings settings, std::string& error) {
    ssl_ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx || !apply_settings(*ctx, settings.tls, error)) {
        if (!ctx) error = "cannot create a TLS server context";
        return std::nullopt;
    }
    auto st = std::make_unique<state>();
    st->store = std::move(store);
    st->policy = std::move(settings.certificate);
    st->policy.use = certificate_use::server;
    st->tickets.store(settings.tickets ? settings.tickets : std::make_shared<const ticket_keys>(ticket_keys::generate()));

    SSL_CTX_set_client_hello_cb(ctx.get(), on_client_hello, st.get());
    SSL_CTX_set_ex_data(ctx.get(), ex_index(), st.get());
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx.get(), on_ticket);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    // Needed for resumption when client certificates are requested.
    static constexpr unsigned char sid_context[] = "dsproxy";
    SSL_CTX_set_session_id_context(ctx.get(), sid_context, sizeof sid_context - 1);
    if (settings.request_client_certificate) SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, accept_any_chain);
    if (settings.client_trust) SSL_CTX_set1_cert_store(ctx.get(), settings.client_trust->get());
    ERR_clear_error();
    return server_context(std::move(ctx), std::move(st));
}

server_context::~server_context() = default;
server_context::server_context(server_context&&) noexcept = default;
server_context& server_context::operator=(server_context&&) noexcept = default;

ssl_ptr server_context::new_session() const { return ssl_ptr(SSL_new(ctx_.get())); }

selection server_context::default_selection(std::time_t now) const {
    return select_certificate(*state_->store, state_->policy, {}, now);
}

void server_context::set_ticket_keys(std::shared_ptr<const ticket_keys> keys) { state_->tickets.store(std::move(keys)); }

void server_context::set_clock(std::function<std::time_t()> clock) { state_->clock = std::move(clock); }

}  // namespace dsproxy::tls
