// relay_session — one proxied SMTP session: the client leg (front_session)
// plus, per transaction, the upstream leg to the backend.
//
// Owns: the upstream connection and its smtp::client_session machine, opened
// when the first RCPT needs it (server_session asks at MAIL time with the
// first recipient pending) and kept for the session's next transactions.
// Must not: acknowledge anything itself — every reply about a message is the
// upstream's, relayed by server_session (docs/design.md §2 end-to-end rule).
//
// Upstream TLS (docs/design.md §3, §6.1): STARTTLS per the upstream's policy; the peer
// is verified after the handshake (collect, then decide): `validate` and up
// refuse on a bad chain, `domain` on a name mismatch; `mode: testing` logs
// what would have failed and relays; `opportunistic` that cannot complete a
// handshake reconnects once in plain text. Every one of these decisions,
// and the fail-over to the next host, is next_hop_attempt's: this file
// carries them out.
#pragma once

#include "proxy/engine/front_session.hpp"
#include "proxy/engine/next_hop_attempt.hpp"
#include "proxy/engine/outbound_route.hpp"
#include "proxy/engine/relay_journal.hpp"
#include "proxy/engine/transaction_log.hpp"
#include "proxy/engine/upstream_leg.hpp"
#include "proxy/engine/upstream_settings.hpp"
#include "proxy/smtp/client_session.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::engine {

class outbound_router;


class relay_session final : public front_session {
public:
    // Inbound: every transaction goes to `upstream` (the backend). Outbound:
    // `router` picks the upstream per transaction from the first recipient's
    // domain, and `upstream` is unused until then.
    relay_session(net::tls_socket client, front_settings settings, smtp::server_options options,
                  smtp::session_policy policy, upstream_settings upstream, outbound_router* router = nullptr);
    ~relay_session() override;

private:
    asio::awaitable<void> on_upstream_action(smtp::server_action action) override;
    asio::awaitable<void> wait_for_upstream() override;
    asio::awaitable<void> close_upstream() override;
    asio::awaitable<void> before_wait() override;

    // Writes the gathered upstream output; on failure, what the machine says
    // about the lost connection (to run through run_client).
    asio::awaitable<std::optional<std::vector<smtp::client_action>>> flush_upstream();

    // Connects to the attempt's host, and on through the route while
    // connecting fails; false when the attempt ended (the client was answered).
    asio::awaitable<bool> open_leg();
    // Carries out a decision of the attempt after a failure: a new connection
    // (returns its MAIL's actions) or the answer to the client (nothing).
    asio::awaitable<std::optional<std::vector<smtp::client_action>>> follow(const attempt_decision& d,
                                                                             smtp::upstream_stage stage,
                                                                             const std::string& reason);
    void conclude(const attempt_decision& d, smtp::upstream_stage stage, const std::string& reason);
    asio::awaitable<bool> choose_route(const smtp::path& first_recipient);
    asio::awaitable<bool> same_route(const smtp::path& recipient);
    void note_would_refuse(const attempt_decision& d, const std::string& reason);
    asio::awaitable<void> run_client(std::vector<smtp::client_action> actions);
    // STARTTLS on the leg, logged; the attempt's decision on it.
    asio::awaitable<attempt_decision> upstream_tls(std::string& reason);
    void log_transaction(const smtp::reply* final_reply, std::string_view failure);

    upstream_settings upstream_;
    outbound_router* router_ = nullptr;
    relay_journal journal_;  // what the session says and counts of its next hops
    std::unique_ptr<upstream_leg> leg_;
    // The transaction's search for a usable next hop (from its MAIL on).
    std::optional<next_hop_attempt> attempt_;

    // Outbound: the route and policy of the transaction's first recipient.
    transaction_route route_;

    // The transaction in flight, for retries and the transaction log line.
    std::optional<transaction_in_flight> mail_;
};

}  // namespace dsproxy::engine
