// load_session — see load_session.hpp.
#include "bench/load_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <optional>
#include <string_view>

namespace dsproxy::bench {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_line = 4096;
constexpr std::size_t max_lines = 64;

using clock = std::chrono::steady_clock;

std::uint32_t micros_since(clock::time_point t) {
    return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - t).count());
}

// The thread's newest session ticket (resumption only when asked).
struct session_holder {
    SSL_SESSION* session = nullptr;
    ~session_holder() {
        if (session) SSL_SESSION_free(session);
    }
};
thread_local session_holder last_session;
thread_local std::uint64_t tickets_seen = 0;

}  // namespace

int resume_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

int remember_session(SSL* ssl, SSL_SESSION* session) {
    ++tickets_seen;
    if (!SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), resume_index())) return 0;  // not resuming: only counted
    if (last_session.session) SSL_SESSION_free(last_session.session);
    last_session.session = session;
    return 1;  // we keep the reference
}

// The socket, the TLS stream once started, the reply buffer and the watchdog.
// Shared with the watchdog's handler, so a late expiry never touches a dead frame.
class client_connection : public std::enable_shared_from_this<client_connection> {
public:
    explicit client_connection(asio::any_io_executor ex) : socket(ex), watchdog(ex) {}

    tcp::socket socket;
    std::optional<asio::ssl::stream<tcp::socket&>> tls;
    asio::steady_timer watchdog;
    bool timed_out = false;
    std::string buffer;  // bytes read but not yet parsed
    std::string last;    // the text of the last reply (EHLO keywords)

    void arm(std::chrono::milliseconds timeout) {
        watchdog.expires_after(timeout);
        watchdog.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec) return;
            self->timed_out = true;
            boost::system::error_code ignored;
            self->socket.close(ignored);  // cancellation is closing the socket
        });
    }
    void disarm() { watchdog.cancel(); }

    asio::awaitable<std::size_t> read_some(char* data, std::size_t size, boost::system::error_code& ec) {
        // (No co_await inside ?: or && here: g++ 12 miscompiles co_await in
        // conditional and short-circuit operands.)
        auto b = asio::buffer(data, size);
        if (tls) {
            auto [e, n] = co_await tls->async_read_some(b, use_tuple);
            ec = e;
            co_return n;
        }
        auto [e, n] = co_await socket.async_read_some(b, use_tuple);
        ec = e;
        co_return n;
    }

    asio::awaitable<void> write(std::string_view data, boost::system::error_code& ec) {
        auto b = asio::buffer(data.data(), data.size());
        if (tls) {
            auto [e, n] = co_await asio::async_write(*tls, b, use_tuple);
            ec = e;
            co_return;
        }
        auto [e, n] = co_await asio::async_write(socket, b, use_tuple);
        ec = e;
    }

    // One whole (possibly multi-line) reply; its code, or 0 with `why` set.
    asio::awaitable<int> reply(std::string& why) {
        last.clear();
        std::size_t lines = 0;
        while (true) {
            const auto eol = buffer.find("\r\n");
            if (eol == std::string::npos) {
                if (buffer.size() > max_line) {
                    why = "bad reply";
                    co_return 0;
                }
                char chunk[8192];
                boost::system::error_code ec;
                const std::size_t n = co_await read_some(chunk, sizeof chunk, ec);
                if (ec || n == 0) {
                    why = timed_out ? "timeout" : ec ? ec.message() : "closed";
                    co_return 0;
                }
                buffer.append(chunk, n);
                continue;
            }
            const std::string_view line(buffer.data(), eol);
            if (line.size() < 3 || ++lines > max_lines) {
                why = "bad reply";
                co_return 0;
            }
            const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            const bool final = line.size() == 3 || line[3] == ' ';
            last.append(line.substr(line.size() > 3 ? 4 : 3));
            last += '\n';
            buffer.erase(0, eol + 2);
            if (final) co_return code;
        }
    }

    asio::awaitable<bool> handshake(const run_context& rc, load_stats& stats, std::string& why) {
        tls.emplace(socket, *rc.tls);
        SSL* ssl = tls->native_handle();
        if (!rc.options.sni.empty()) SSL_set_tlsext_host_name(ssl, rc.options.sni.c_str());
        if (rc.options.resume && last_session.session) SSL_set_session(ssl, last_session.session);
        const auto started = clock::now();
        auto [ec] = co_await tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
        if (ec) {
            why = timed_out ? "timeout" : "TLS handshake failed";
            co_return false;
        }
        stats.handshake_us.push_back(micros_since(started));
        co_return true;
    }
};

namespace {

// Sends `command` (unless empty) and expects a reply with code `want`.
asio::awaitable<bool> step(client_connection& c, std::string_view stage, std::string_view command, int want,
                           load_stats& stats) {
    if (!command.empty()) {
        boost::system::error_code ec;
        co_await c.write(command, ec);
        if (ec) {
            stats.fail(std::string(stage) + ": " + (c.timed_out ? "timeout" : ec.message()));
            co_return false;
        }
    }
    std::string why;
    const int code = co_await c.reply(why);
    if (code == want) co_return true;
    stats.fail(std::string(stage) + ": " + (code ? "reply " + std::to_string(code) : why));
    co_return false;
}

bool advertises(const std::string& ehlo_text, std::string_view keyword) {
    std::size_t pos = 0;
    while (pos < ehlo_text.size()) {
        const auto eol = ehlo_text.find('\n', pos);
        std::string_view line(ehlo_text.data() + pos, (eol == std::string::npos ? ehlo_text.size() : eol) - pos);
        if (line.size() >= keyword.size() && line.substr(0, keyword.size()) == keyword &&
            (line.size() == keyword.size() || line[keyword.size()] == ' '))
            return true;
        pos = eol == std::string::npos ? ehlo_text.size() : eol + 1;
    }
    return false;
}

// Connect, banner, EHLO, STARTTLS, handshake, EHLO: the held state of idle mode.
asio::awaitable<bool> open(client_connection& c, const run_context& rc, load_stats& stats) {
    const auto& o = rc.options;
    auto [ec] = co_await c.socket.async_connect(o.target, use_tuple);
    if (ec) {
        stats.fail("connect: " + (c.timed_out ? std::string("timeout") : ec.message()));
        co_return false;
    }
    c.socket.set_option(tcp::no_delay(true), ec);
    std::string why;
    if (o.tls == tls_mode::implicit) {
        const bool shaken = co_await c.handshake(rc, stats, why);
        if (!shaken) {
            stats.fail("handshake: " + why);
            co_return false;
        }
    }
    const std::string ehlo = "EHLO " + o.ehlo + "\r\n";
    if (!co_await step(c, "banner", {}, 220, stats)) co_return false;
    if (!co_await step(c, "ehlo", ehlo, 250, stats)) co_return false;
    if (o.tls == tls_mode::starttls) {
        if (!advertises(c.last, "STARTTLS")) {
            stats.fail("ehlo: no STARTTLS");
            co_return false;
        }
        if (!co_await step(c, "starttls", "STARTTLS\r\n", 220, stats)) co_return false;
        if (!c.buffer.empty()) {
            stats.fail("starttls: bytes after 220");  // CVE-2011-0411 in reverse: never trust them
            co_return false;
        }
        const bool shaken = co_await c.handshake(rc, stats, why);
        if (!shaken) {
            stats.fail("handshake: " + why);
            co_return false;
        }
        if (!co_await step(c, "ehlo after tls", ehlo, 250, stats)) co_return false;
    }
    if (o.pipelining && !advertises(c.last, "PIPELINING")) {
        stats.fail("ehlo: no PIPELINING");
        co_return false;
    }
    co_return true;
}

// MAIL, RCPT, DATA, the message, QUIT.
asio::awaitable<bool> transaction_and_quit(client_connection& c, const run_context& rc, load_stats& stats) {
    const auto& o = rc.options;
    const std::string mail = "MAIL FROM:<" + o.from + ">\r\n";
    const std::string rcpt = "RCPT TO:<" + o.to + ">\r\n";
    if (o.pipelining) {
        boost::system::error_code ec;
        co_await c.write(mail + rcpt + "DATA\r\n", ec);
        if (ec) {
            stats.fail("mail: " + (c.timed_out ? std::string("timeout") : ec.message()));
            co_return false;
        }
        if (!co_await step(c, "mail", {}, 250, stats)) co_return false;
        if (!co_await step(c, "rcpt", {}, 250, stats)) co_return false;
        if (!co_await step(c, "data", {}, 354, stats)) co_return false;
    } else {
        if (!co_await step(c, "mail", mail, 250, stats)) co_return false;
        if (!co_await step(c, "rcpt", rcpt, 250, stats)) co_return false;
        if (!co_await step(c, "data", "DATA\r\n", 354, stats)) co_return false;
    }
    const auto data_started = clock::now();
    if (!co_await step(c, "end of data", rc.message, 250, stats)) co_return false;
    stats.message_seconds += std::chrono::duration<double>(clock::now() - data_started).count();
    stats.message_bytes += rc.message_size;
    co_return co_await step(c, "quit", "QUIT\r\n", 221, stats);
}

void close(client_connection& c) {
    c.disarm();
    boost::system::error_code ignored;
    c.socket.close(ignored);
}

}  // namespace

idle_gate::idle_gate(asio::any_io_executor ex) : timer_(ex, clock::time_point::max()) {}

asio::awaitable<void> idle_gate::wait() {
    if (released_) co_return;
    co_await timer_.async_wait(use_tuple);  // ends with operation_aborted at release()
}

void idle_gate::release() {
    released_ = true;
    timer_.cancel();
}

asio::awaitable<void> run_session(const run_context& rc, load_stats& stats) {
    auto c = std::make_shared<client_connection>(co_await asio::this_coro::executor);
    const auto started = clock::now();
    c->arm(rc.options.timeout);
    bool ok = co_await open(*c, rc, stats);
    if (ok) ok = co_await transaction_and_quit(*c, rc, stats);
    close(*c);
    stats.tickets = tickets_seen;
    if (!ok) co_return;
    ++stats.ok;
    stats.latency_us.push_back(micros_since(started));
}

asio::awaitable<std::shared_ptr<client_connection>> open_held(const run_context& rc, load_stats& stats) {
    auto c = std::make_shared<client_connection>(co_await asio::this_coro::executor);
    c->arm(rc.options.timeout);
    const bool ok = co_await open(*c, rc, stats);
    c->disarm();
    if (!ok) {
        close(*c);
        co_return nullptr;
    }
    ++stats.held;
    co_return c;
}

asio::awaitable<void> finish_held(std::shared_ptr<client_connection> c, const run_context& rc, load_stats& stats,
                                  idle_gate& gate) {
    co_await gate.wait();
    // The watchdog's earlier expiry was cancelled; a fresh one bounds the QUIT.
    c->timed_out = false;
    c->arm(rc.options.timeout);
    const auto started = clock::now();
    const bool ok = co_await step(*c, "quit after idle", "QUIT\r\n", 221, stats);
    close(*c);
    if (!ok) co_return;
    ++stats.ok;
    stats.latency_us.push_back(micros_since(started));
}

}  // namespace dsproxy::bench
