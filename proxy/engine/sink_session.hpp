// sink_session — one session of `dsproxy sink`, the development SMTP server:
// the same client leg as the proxy (front_session, so STARTTLS, limits and
// smuggling rules are identical), but the "upstream" is a Maildir.
//
// A test double for development and tests, not a mail store: no queue, no
// delivery, no quotas. It can inject faults at each stage (answer a code,
// close the connection, or never answer) so tests can check that the proxy
// loses nothing (docs/design.md §10).
//
// Owns: the message being written (Maildir tmp/ file) and the unstuffing of
// DATA's wire form. Must not: make a message visible before its final reply
// is about to be 250 — a fault at end of data discards it.
#pragma once

#include "proxy/engine/front_session.hpp"
#include "proxy/net/maildir.hpp"

#include <functional>
#include <optional>
#include <random>
#include <vector>

namespace dsproxy::engine {

struct sink_fault {
    enum class action { reply, close, stall };
    bool at_handshake = false;  // `tls=close`: the TLS handshake after STARTTLS's 220 (stage unused)
    smtp::upstream_stage stage = smtp::upstream_stage::end_of_data;
    action what = action::reply;
    int code = 451;
    double probability = 1.0;
};

// Parses "STAGE=ACTION[@PROBABILITY]": STAGE mail|rcpt|data|end-of-data,
// ACTION a 4xx/5xx code, `close` or `stall`; or `tls=close`: the connection
// is closed instead of the handshake that follows STARTTLS's 220.
std::optional<sink_fault> parse_sink_fault(std::string_view text, std::string& error);

struct sink_settings {
    net::maildir* store = nullptr;  // shared by the sink's sessions (one thread)
    bool fsync = true;
    std::vector<sink_fault> faults;
    std::mt19937* random = nullptr;
};

class sink_session final : public front_session {
public:
    sink_session(net::tls_socket client, front_settings settings, smtp::server_options options, sink_settings sink);

private:
    asio::awaitable<void> on_upstream_action(smtp::server_action action) override;
    asio::awaitable<void> wait_for_upstream() override;
    asio::awaitable<void> close_upstream() override;

    bool fail_handshake() override;
    const sink_fault* fault_for(smtp::upstream_stage stage);
    bool happens(const sink_fault& f);
    void append(std::string_view bytes);

    sink_settings sink_;
    std::unique_ptr<net::maildir> message_;  // this session's writer over the shared directory
    bool in_message_ = false;
    bool unstuff_ = false;       // DATA wire form: drop the stuffing dot
    bool at_line_start_ = true;
    std::uint64_t size_ = 0;
    std::string write_error_;
};

}  // namespace dsproxy::engine
