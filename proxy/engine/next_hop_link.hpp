// next_hop_link — the I/O steps on a next hop's connection that the relay and
// `dsproxy probe` share: the STARTTLS handshake with the upstream's TLS
// context and its certificate judgement, and the polite QUIT.
//
// Owns: nothing beyond one call; the socket and the SMTP machine are the
// caller's. Must not: decide what a failure means (next_hop_attempt does) or
// log (the caller logs, with its own session id).
#pragma once

#include "proxy/engine/metrics_registry.hpp"
#include "proxy/engine/upstream_check.hpp"
#include "proxy/engine/upstream_settings.hpp"
#include "proxy/net/tls_socket.hpp"
#include "proxy/smtp/client_session.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <optional>
#include <string>

namespace dsproxy::engine {

namespace asio = boost::asio;

struct next_hop_tls {
    std::optional<smtp::upstream_failure> failure;  // the handshake failed (kind handshake); else:
    net::tls_facts facts;
    upstream_verdict verdict;                        // the level's checks (upstream_check)
    dane::dane_action dane_action = dane::dane_action::none;  // what the host's TLSA records demanded
    std::optional<tls::dane_result> dane;            // authenticate: OpenSSL's DANE verdict
    // MTA-STS's check (RFC 8461 §4.2: WebPKI chain, the MX host's name),
    // when a published policy applies to a host DANE does not
    // (upstream_settings::sts_trust; DANE takes precedence, RFC 8461 §2).
    std::optional<tls::verification_result> sts;
    // The verdict per policy source, for next_hop_attempt::on_verdict.
    certificate_verdict sources() const {
        return {verdict.passed, (dane_action != dane::dane_action::authenticate || (dane && dane->matched)) &&
                                    (!sts || sts->passed)};
    }
    // "certificate check failed: ...", "DANE: no TLSA record matched: ..."
    // or "MTA-STS certificate check failed: ...".
    std::string reason() const;
};

// Upgrades `socket` (STARTTLS answered 220) with `u`'s client context, SNI
// `host` (the TLSA base domain under DANE) and client certificate, with the
// host's usable TLSA records attached when DANE demands authentication,
// within `timeout` on `timer`, and judges the certificate. `metrics` (may be
// null) counts the handshake and a failed check.
asio::awaitable<next_hop_tls> start_next_hop_tls(net::tls_socket& socket, const upstream_settings& u,
                                                 const upstream_host& host, asio::steady_timer& timer,
                                                 steady_clock::duration timeout, metrics_registry* metrics);

// QUIT when the connection can take it (its reply is not waited for), then
// close_notify and close; each write bounded by `bound`.
asio::awaitable<void> quit_next_hop(net::tls_socket& socket, smtp::client_session& machine,
                                    asio::steady_timer& timer, steady_clock::duration bound);

}  // namespace dsproxy::engine
