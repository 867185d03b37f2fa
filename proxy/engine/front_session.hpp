// front_session — the client-facing leg of one SMTP session: reads and writes
// the client's socket, runs STARTTLS (or implicit TLS), and carries out the
// actions of the sans-I/O smtp::server_session.
//
// Owns: the client socket, the server_session state machine, the session's
// timer and the queue of actions still to carry out.
// Must not: decide anything SMTP (server_session does) or reach the upstream
// itself: the upstream_* actions go to the derived class (relay_session for
// the proxy, sink_session for the development sink).
//
// Every wait is bounded (timed.hpp): a whole command by the command timeout
// (one deadline from the last reply until the next complete command, however
// the bytes trickle in: a slowloris client sending one byte a second is cut
// off like a silent one), message content by the data-block timeout and the
// minimum data rate (a budget, below), a write by the command timeout, the
// handshake by the handshake timeout. stop() (server shutdown)
// ends the current wait, answers 421 and closes.
#pragma once

#include "proxy/engine/metrics_registry.hpp"
#include "proxy/engine/timed.hpp"
#include "proxy/net/tls_socket.hpp"
#include "proxy/smtp/server_session.hpp"
#include "tls/server_context.hpp"
#include "tls/trust_store.hpp"

#include <spdlog/logger.h>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::engine {

using std::chrono::steady_clock;

struct front_timeouts {
    steady_clock::duration command = std::chrono::minutes(5);     // RFC 5321 §4.5.3.2.7
    steady_clock::duration data_block = std::chrono::minutes(5);
    steady_clock::duration tls_handshake = std::chrono::minutes(1);
    // Minimum rate in DATA/BDAT, bytes per second (limits.min_data_rate); 0:
    // off, data_block then bounds each read only.
    std::uint64_t min_data_rate = 0;
};

struct front_settings {
    std::string session_id;
    bool implicit_tls = false;                     // TLS from the first byte (port 465 style)
    const tls::server_context* tls = nullptr;      // null: no TLS on this listener
    // Verify a client certificate's chain, each once at the handshake (the
    // client_tls record's chains): [0] the global trust, then every trust of
    // a sender policy with its own ca_file or crl (inbound listeners only).
    std::vector<const tls::trust_store*> client_trusts;
    front_timeouts timeouts;
    // Wait this long before the banner; a client that talks first is an early
    // talker (554, RFC 5321 §4.3.1), as with Postfix's postscreen greet pause.
    steady_clock::duration greeting_delay = steady_clock::duration::zero();
    std::shared_ptr<spdlog::logger> log;
    // The client as far as logs, limits, XCLIENT and PROXY towards the
    // upstream are concerned: the socket's peer, or what a trusted load
    // balancer's PROXY header said.
    net::tcp::endpoint client_endpoint;
    net::tcp::endpoint local_endpoint;
    metrics_registry* metrics = nullptr;  // null: not counted (the sink)
};

class front_session {
public:
    front_session(net::tls_socket client, front_settings settings, smtp::server_options options,
                  smtp::session_policy policy);
    virtual ~front_session();
    front_session(const front_session&) = delete;
    front_session& operator=(const front_session&) = delete;

    // The whole session; returns when it is over and both legs are closed.
    asio::awaitable<void> run();

    // Server shutdown: the current wait ends, the client gets 421 4.3.2.
    void stop();

    const std::string& id() const noexcept { return settings_.session_id; }

protected:
    // Carries out one upstream_* action (or upstream_abort); may post events.
    virtual asio::awaitable<void> on_upstream_action(smtp::server_action action) = 0;
    // Called while the server session awaits an upstream reply: wait for the
    // upstream (bounded) and post what it said.
    virtual asio::awaitable<void> wait_for_upstream() = 0;
    // The session is ending: close the upstream leg.
    virtual asio::awaitable<void> close_upstream() = 0;
    // Called before every wait (for the client or the upstream): the relay
    // writes its gathered upstream output here. May post events.
    virtual asio::awaitable<void> before_wait() { co_return; }
    // Called when a handshake is about to start: true makes it fail at once
    // (the connection is closed). Only the development sink's fault
    // injection says true.
    virtual bool fail_handshake() { return false; }

    // Queues events from the server session to carry out.
    void post(std::vector<smtp::server_action> actions);

    smtp::server_session& server() noexcept { return server_; }
    net::tls_socket& client() noexcept { return client_; }
    // The PROXY v2 header that hands this client on (its addresses, the TLS
    // facts of its leg, the SNI as PP2_TYPE_AUTHORITY); nullopt when its
    // addresses cannot be encoded.
    std::optional<std::string> proxy_v2_header();
    const front_settings& settings() const noexcept { return settings_; }
    asio::steady_timer& timer() noexcept { return timer_; }
    bool stopping() const noexcept { return stopping_; }
    const bool& stopping_flag() const noexcept { return stopping_; }  // for wait_ready_within

    template <class... Args>
    void info(spdlog::format_string_t<Args...> fmt, Args&&... args) {
        settings_.log->info("sid={} {}", settings_.session_id, fmt::format(fmt, std::forward<Args>(args)...));
    }
    template <class... Args>
    void warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
        settings_.log->warn("sid={} {}", settings_.session_id, fmt::format(fmt, std::forward<Args>(args)...));
    }

private:
    asio::awaitable<void> execute_pending();
    // The greet pause: false when the client talked (or left) before the banner.
    asio::awaitable<bool> quiet_through_greet_pause();
    asio::awaitable<void> read_client();
    asio::awaitable<void> write_client(const std::string& text);
    asio::awaitable<void> start_tls();
    asio::awaitable<void> say_goodbye(const std::string& text);

    net::tls_socket client_;
    front_settings settings_;
    smtp::server_session server_;
    asio::steady_timer timer_;
    // Not a std::deque: libstdc++'s allocates 512 bytes even when empty, and
    // every idle session would hold them (docs/design.md §9 memory per idle session).
    std::vector<smtp::server_action> pending_;
    std::size_t pending_head_ = 0;  // the next action to carry out
    // When the command being read must be complete; unset until a command
    // read begins, cleared by every reply (the command was answered).
    std::optional<steady_clock::time_point> command_deadline_;
    // docs/design.md §10 slow clients, after Postfix's smtpd_min_data_rate: in DATA and
    // BDAT content the time spent waiting for the client is charged to this
    // budget (one data_block to start with), and every byte received earns
    // 1/min_data_rate s back, never above data_block. A client that trickles
    // (one byte a second) runs it out as a silent one would; time spent on
    // the upstream leg is not charged to the client.
    steady_clock::duration data_budget_{};
    bool in_content_ = false;
    bool client_gone_ = false;
    bool stopping_ = false;
};

}  // namespace dsproxy::engine
