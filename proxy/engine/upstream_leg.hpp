// upstream_leg — one connection to a next hop as the relay uses it: the
// socket, the smtp::client_session machine that speaks on it, and the I/O
// steps on it (connect with an optional PROXY header, gathered writes, a
// bounded read, the goodbye).
//
// Owns: the socket, the machine and the output gathered for the next write
// (commands and content go out in one write before any wait, so MAIL+RCPT or
// a Received header, a block of content and the final dot cost one system
// call, not three; docs/design.md §9). Every wait is bounded by the caller's
// timer and duration (docs/design.md §2).
// Must not: decide what a failure means (next_hop_attempt does) or log (the
// relay logs, with its session id): each step returns what happened.
#pragma once

#include "proxy/engine/metrics_registry.hpp"
#include "proxy/engine/upstream_settings.hpp"
#include "proxy/net/tls_socket.hpp"
#include "proxy/smtp/client_session.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::engine {

namespace asio = boost::asio;

// The options of a connection to the upstream's next hop; `client` is what
// XCLIENT tells it about the session's client, when the upstream takes XCLIENT.
smtp::client_options next_hop_options(const upstream_settings& upstream, smtp::xclient_facts client);

class upstream_leg {
public:
    upstream_leg(net::tls_socket s, smtp::client_options o, upstream_host h, std::size_t index);

    struct opened;
    // Connects to `host` (name resolution and connect within `timeout`) and
    // sends `proxy_header` first when there is one. `index` is the host's
    // place in the upstream's list (a later transaction fails over from
    // there). `metrics` (may be null) gets the connect time.
    static asio::awaitable<opened> open(const upstream_host& host, std::size_t index, smtp::client_options options,
                                        const std::optional<std::string>& proxy_header, asio::steady_timer& timer,
                                        steady_clock::duration timeout, metrics_registry* metrics);

    // Adds `bytes` to what the next write carries; true when so much is
    // gathered that it should be written now.
    bool gather(std::string bytes);
    bool gathered() const noexcept { return !out_.empty(); }

    // Writes what is gathered, waiting at most `timeout` for the rest of it.
    // On failure the leg is dead and this says why ("timeout" or the error).
    asio::awaitable<std::optional<std::string>> flush(asio::steady_timer& timer, steady_clock::duration timeout);
    bool timed_out_writing() const noexcept { return write_timed_out_; }

    // What one wait for the next hop gave.
    enum class read_status {
        bytes,        // it sent something: `actions` is the machine's answer
        closed,       // the connection ended or failed: `actions` likewise
        ready_again,  // the socket became ready without data (TLS): read again
        timed_out,    // nothing within the timeout
        stopped,      // the server is stopping (`abort` was set)
    };
    struct read_result {
        read_status status;
        std::vector<smtp::client_action> actions;
    };
    asio::awaitable<read_result> read(asio::steady_timer& timer, steady_clock::duration timeout, const bool& abort);

    // QUIT when the connection can take it (its reply is not waited for),
    // else close_notify; then close. Each write bounded by `bound`.
    asio::awaitable<void> close(asio::steady_timer& timer, steady_clock::duration bound);

    // "host:port", for the log.
    std::string where() const { return host.host + ":" + std::to_string(host.port); }

    net::tls_socket socket;
    smtp::client_session machine;
    upstream_host host;
    std::size_t index;          // of upstream_settings::hosts
    bool dead = false;          // failed: never used again
    bool would_refuse = false;  // mode testing: this connection fails the level, used anyway
    std::string tls = "none";   // tls_summary once TLS is up, for the transaction log
    // What DANE made of this connection, for the transaction log: failed
    // until a handshake proves otherwise when DANE applies (docs/design.md §6.4).
    dane::dane_outcome dane = dane::dane_outcome::not_applicable;
    // MTA-STS's certificate check of this connection, when one ran (mta_sts.hpp).
    std::optional<bool> sts_passed;

private:
    std::string out_;
    bool write_timed_out_ = false;
};

struct upstream_leg::opened {
    std::unique_ptr<upstream_leg> leg;             // connected; or else:
    std::optional<smtp::upstream_failure> failure;  // kind connect
};

}  // namespace dsproxy::engine
