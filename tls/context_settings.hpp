// context_settings — the hardened TLS defaults shared by server and client
// contexts (docs/design.md §3), and their per-listener / per-policy knobs.
//
// Owns: protocol floor (TLS 1.2 unless raised), no compression (CRIME), no
// renegotiation (CVE-2009-3555 and its DoS cousins), server cipher
// preference, ECDHE-only AEAD suites for TLS 1.2, X25519 and P-256 groups,
// SSL_MODE_RELEASE_BUFFERS (idle sessions hold no record buffers, docs/design.md §9),
// and the handshake verify callback that accepts every chain so that the
// decision is made afterwards by peer_verification.
// Must not: choose certificates or verify peers.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::tls {

// TLS 1.2 suites: forward secret (ECDHE) and AEAD only. TLS 1.3 suites are
// all AEAD with (EC)DHE already.
inline constexpr std::string_view default_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr std::string_view default_tls13_ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
inline constexpr std::string_view default_groups = "X25519:P-256";

struct tls_settings {
    int min_version = TLS1_2_VERSION;
    std::string ciphers{default_tls12_ciphers};
    std::string ciphersuites{default_tls13_ciphersuites};
    std::string groups{default_groups};
    // TLS 1.3 tickets sent after each full handshake. OpenSSL sends 2 by
    // default, which costs ~250 µs per handshake (docs/design.md §9); mail clients
    // rarely resume, so none unless configured.
    std::size_t tls13_tickets = 0;
};

// "1.2", "1.3", "TLSv1.2", "TLSv1.3" -> TLS1_2_VERSION / TLS1_3_VERSION.
// Older versions are refused: docs/design.md §3 makes TLS 1.2 the floor.
std::optional<int> parse_tls_version(std::string_view text) noexcept;

// Applies `settings` and the fixed hardening to `ctx`. On failure returns
// false and a sentence (e.g. a cipher string OpenSSL does not know).
bool apply_settings(SSL_CTX& ctx, const tls_settings& settings, std::string& error);

// The TLS 1.2 cipher names (OpenSSL's, as SSL_CIPHER_get_name gives them)
// that the cipher list `list` selects; nullopt and a sentence when it
// selects none. For checking what a peer negotiated against a policy.
std::optional<std::vector<std::string>> tls12_cipher_names(const std::string& list, std::string& error);

// The handshake verify callback: never fails a handshake over the chain.
// OpenSSL keeps the last problem in SSL_get_verify_result(); the decision is
// verify_peer()'s, after the handshake.
int accept_any_chain(int ok, X509_STORE_CTX* ctx);

}  // namespace dsproxy::tls
