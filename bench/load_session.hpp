// load_session — one client SMTP session of the load generator (smtp_load):
// connect, banner, EHLO, STARTTLS (or implicit TLS, or none), a full TLS
// handshake, EHLO, MAIL, RCPT, DATA of the configured message, QUIT, with
// every reply code checked.
//
// Owns: the session's socket, its TLS stream (asio::ssl::stream layered onto
// the socket at STARTTLS time), its reply buffer and its watchdog.
// Must not: share mutable state between threads: each thread has its own
// io_context, load_stats and idle gate; the message text and TLS context are
// read-only once the run starts.
// Limits: a reply line longer than 4 KiB, or a reply of more than 64 lines,
// is a failure ("bad reply"); the whole session is bounded by `timeout`.
#pragma once

#include "bench/load_stats.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace dsproxy::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

enum class tls_mode { starttls, implicit, none };

struct session_options {
    tcp::endpoint target;
    tls_mode tls = tls_mode::starttls;
    bool pipelining = false;             // MAIL, RCPT and DATA in one write (RFC 2920)
    std::string ehlo = "load.bench.test";
    std::string from = "load@bench.test";
    std::string to = "postmaster@example.com";
    std::string sni;                     // empty: no SNI
    bool resume = false;                 // offer the thread's last session (ticket) again
    std::chrono::milliseconds timeout{60'000};
};

// What every session of a run reads and nobody writes.
struct run_context {
    session_options options;
    asio::ssl::context* tls = nullptr;  // client context (null when tls == none)
    std::string message;                // DATA content in wire form, ending ".\r\n"
    std::size_t message_size = 0;       // its size without the final ".\r\n"
};

class client_connection;

// Idle mode: sessions that reached the held state wait here until release().
class idle_gate {
public:
    explicit idle_gate(asio::any_io_executor ex);
    asio::awaitable<void> wait();
    void release();  // call on the gate's executor
private:
    asio::steady_timer timer_;
    bool released_ = false;
};

// Counts session tickets and, when the context's resume_index() ex_data is
// set, keeps the newest one of this thread (SSL_CTX_sess_set_new_cb).
int remember_session(SSL* ssl, SSL_SESSION* session);
int resume_index();

// The whole session; results go into `stats`.
asio::awaitable<void> run_session(const run_context& rc, load_stats& stats);

// Idle mode, first half: up to the EHLO after TLS. Null on failure (counted).
asio::awaitable<std::shared_ptr<client_connection>> open_held(const run_context& rc, load_stats& stats);
// Idle mode, second half: wait at the gate, then QUIT.
asio::awaitable<void> finish_held(std::shared_ptr<client_connection> c, const run_context& rc, load_stats& stats,
                                  idle_gate& gate);

}  // namespace dsproxy::bench
