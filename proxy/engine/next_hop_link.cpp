// next_hop_link — see next_hop_link.hpp.
#include "proxy/engine/next_hop_link.hpp"

#include "proxy/engine/mta_sts.hpp"
#include "proxy/engine/timed.hpp"

namespace dsproxy::engine {

std::string next_hop_tls::reason() const {
    if (!verdict.passed) return verdict.reason;
    if (dane_action == dane::dane_action::authenticate && !(dane && dane->matched))
        return "DANE: no TLSA record matched: " + (dane ? dane->reason : std::string("not verified"));
    if (sts && !sts->passed) return "MTA-STS certificate check failed: " + sts->reason;
    return {};
}

asio::awaitable<next_hop_tls> start_next_hop_tls(net::tls_socket& socket, const upstream_settings& u,
                                                 const upstream_host& hop, asio::steady_timer& timer,
                                                 steady_clock::duration timeout, metrics_registry* metrics) {
    next_hop_tls out;
    std::string error;
    const std::string& host = hop.host;
    const auto request = hop.dane ? dane_request_of(*hop.dane) : std::nullopt;
    if (hop.dane) out.dane_action = hop.dane->action;
    tls::ssl_ptr ssl =
        u.tls ? u.tls->new_session(host, u.client_certificate.get(), error, request ? &*request : nullptr) : nullptr;
    if (!ssl) {
        out.failure = smtp::upstream_failure{
            smtp::failure_kind::handshake,
            u.tls ? "handshake setup failed: " + error : std::string("no TLS client context for this upstream")};
        co_return out;
    }
    boost::system::error_code ec;
    const bool done = co_await timed(timer, timeout, socket.upgrade(std::move(ssl), net::tls_role::client, ec, error));
    if (metrics) metrics->tls_handshake(tls_leg::out, done && !ec, socket.facts().protocol);
    if (!done || ec) {
        out.failure = smtp::upstream_failure{smtp::failure_kind::handshake,
                                             "handshake failed: " + (done ? error : std::string("timeout"))};
        co_return out;
    }
    out.facts = socket.facts();
    out.verdict = judge_upstream_certificate(*socket.ssl(), u, host);
    if (request) out.dane = tls::dane_result_of(*socket.ssl());
    if (u.sts_trust && out.dane_action != dane::dane_action::authenticate)
        out.sts = tls::verify_peer(*socket.ssl(), *u.sts_trust, sts_verify_request(host));
    if (!out.verdict.passed && metrics)
        metrics->verification_failed(tls_leg::out, config::to_name(u.floor.level), failure_label(out.verdict.result));
    co_return out;
}

asio::awaitable<void> quit_next_hop(net::tls_socket& socket, smtp::client_session& machine,
                                    asio::steady_timer& timer, steady_clock::duration bound) {
    if (machine.reusable()) {
        for (auto& a : machine.quit())
            if (auto* s = std::get_if<smtp::client_actions::send>(&a)) {
                boost::system::error_code ec;
                co_await timed(timer, bound, socket.write_all(s->bytes, ec));
            }
    }
    co_await timed(timer, bound, socket.shutdown());
}

}  // namespace dsproxy::engine
