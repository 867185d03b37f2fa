// relay_session — one proxied SMTP session: the client leg (front_session)
// plus, per transaction, the upstream leg to the backend.
//
// Owns: the upstream connection and its smtp::client_session machine, opened
// when the first RCPT needs it (server_session asks at MAIL time with the
// first recipient pending) and kept for the session's next transactions.
// Must not: acknowledge anything itself — every reply about a message is the
// upstream's, relayed by server_session (SPEC §2 end-to-end rule).
//
// Upstream TLS (SPEC §3, §6.1): STARTTLS per the upstream's policy; the peer
// is verified after the handshake (collect, then decide): `validate` and up
// refuse on a bad chain, `domain` on a name mismatch; `mode: testing` logs
// what would have failed and relays; `opportunistic` that cannot complete a
// handshake reconnects once in plain text.
#pragma once

#include "config/enums.hpp"
#include "proxy/engine/front_session.hpp"
#include "proxy/smtp/client_session.hpp"
#include "tls/client_context.hpp"
#include "tls/peer_verification.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::engine {

struct upstream_host {
    std::string host;  // name or IP literal (SNI and match_host use it)
    std::uint16_t port = 25;
    std::vector<std::string> addresses;  // already resolved (outbound routing); empty: resolve `host`
};

struct upstream_timeouts {
    steady_clock::duration connect = std::chrono::seconds(30);
    steady_clock::duration greeting = std::chrono::minutes(5);   // the banner (RFC 5321 §4.5.3.2.1)
    steady_clock::duration ehlo = std::chrono::minutes(5);       // EHLO/HELO, STARTTLS, XCLIENT
    steady_clock::duration mail = std::chrono::minutes(5);       // MAIL, RSET
    steady_clock::duration rcpt = std::chrono::minutes(5);
    steady_clock::duration data_init = std::chrono::minutes(2);  // 354
    steady_clock::duration data_block = std::chrono::minutes(3); // each write of content
    steady_clock::duration data_final = std::chrono::minutes(10);
    steady_clock::duration tls_handshake = std::chrono::minutes(1);
};

struct upstream_settings {
    std::string name;                            // for the log
    std::vector<upstream_host> hosts;            // tried in order
    smtp::upstream_tls starttls = smtp::upstream_tls::opportunistic;
    std::string level = "opportunistic";         // the policy level's name, for the log
    config::tls_level policy_level = config::tls_level::opportunistic;  // the level as configured (metrics)
    std::string policy_entry = "other";          // the policy entry that applied (metrics; outbound)
    const tls::client_context* tls = nullptr;    // required unless starttls == none
    std::shared_ptr<const tls::credential> client_certificate;
    const tls::trust_store* trust = nullptr;     // verifies the upstream's chain
    tls::verify_request verify;                  // what the level checks after the handshake
    bool match_host = false;                     // also RFC 6125 host rules against the host connected to
    bool enforce = true;                         // false: mode testing (log, don't refuse)
    bool xclient = false;
    bool proxy_protocol = false;
    upstream_timeouts timeouts;
    std::string helo_name = "localhost";
    smtp::smtp_limits limits;
    // What a TLS policy failure on every host answers (SPEC §6.1 on_failure):
    // 4xx (defer) or 5xx (reject).
    bool reject_on_policy_failure = false;
};

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
    struct leg;

    asio::awaitable<void> on_upstream_action(smtp::server_action action) override;
    asio::awaitable<void> wait_for_upstream() override;
    asio::awaitable<void> close_upstream() override;
    asio::awaitable<void> before_wait() override;

    // Writes the gathered upstream output; on failure, what the machine says
    // about the lost connection (to run through run_client).
    asio::awaitable<std::optional<std::vector<smtp::client_action>>> flush_upstream();

    asio::awaitable<bool> open_leg(bool plain_only, std::size_t first_host);
    asio::awaitable<bool> choose_route(const smtp::path& first_recipient);
    asio::awaitable<bool> same_route(const smtp::path& recipient);
    void report_exhausted(smtp::upstream_stage stage, const std::string& reason);
    // Outbound: one evaluation of the recipient domain's policy, for the metrics.
    void count_policy_outcome(policy_outcome outcome);
    void note_policy_passed();
    asio::awaitable<bool> connect_to(const upstream_host& host, const smtp::client_options& options,
                                     std::string& error);
    asio::awaitable<void> run_client(std::vector<smtp::client_action> actions);
    asio::awaitable<bool> upstream_tls(std::string& reason);
    steady_clock::duration reply_timeout(smtp::upstream_stage stage) const;
    void log_transaction(const smtp::reply* final_reply, std::string_view failure);

    upstream_settings upstream_;
    outbound_router* router_ = nullptr;
    std::unique_ptr<leg> leg_;
    bool plain_fallback_ = false;  // opportunistic: the handshake failed once, go plain
    std::size_t host_index_ = 0;   // the host of upstream_.hosts the leg is connected to
    bool mail_accepted_ = false;   // the upstream accepted MAIL: no more failover
    std::string policy_failure_;   // the last TLS policy failure on this route, for the reply

    // Outbound: the route and policy of the transaction's first recipient.
    std::string route_key_, policy_key_, route_domain_;

    // The transaction in flight, for retries and the transaction log line.
    std::optional<std::pair<smtp::path, smtp::mail_parameters>> mail_;
    std::vector<std::string> recipients_;
    std::uint64_t size_ = 0;
    steady_clock::time_point started_;
};

}  // namespace dsproxy::engine
