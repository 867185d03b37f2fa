// tls_socket — see tls_socket.hpp.
#include "proxy/net/tls_socket.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>

#include <cerrno>

namespace dsproxy::net {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string drain_openssl_errors() {
    std::string text;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!text.empty()) text += "; ";
        text += buf;
    }
    return text;
}

// What to do after an SSL_* call that did not complete.
enum class ssl_next { wait_read, wait_write, fail, eof };

ssl_next classify(SSL* ssl, int rc, boost::system::error_code& ec) {
    switch (SSL_get_error(ssl, rc)) {
        case SSL_ERROR_WANT_READ: return ssl_next::wait_read;
        case SSL_ERROR_WANT_WRITE: return ssl_next::wait_write;
        case SSL_ERROR_ZERO_RETURN:
            ec = asio::error::eof;
            return ssl_next::eof;
        case SSL_ERROR_SYSCALL:
            // OpenSSL 3: an unexpected EOF is reported as SSL_ERROR_SSL with
            // SSL_R_UNEXPECTED_EOF_WHILE_READING; errno covers real errors.
            ec = errno ? boost::system::error_code(errno, boost::system::system_category())
                       : boost::system::error_code(asio::error::connection_reset);
            return ssl_next::fail;
        default:
            ec = asio::error::connection_aborted;
            return ssl_next::fail;
    }
}

}  // namespace

tls_socket::tls_socket(tcp::socket socket) : socket_(std::move(socket)) {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);  // no Nagle stalls (docs/design.md §9)
    socket_.non_blocking(true, ignored);
}

std::size_t tls_socket::try_read(std::span<char> buffer, boost::system::error_code& ec) {
    ec.clear();
    want_write_ = false;
    if (!ssl_) return socket_.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
    std::size_t n = 0;
    ERR_clear_error();
    const int rc = SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &n);
    if (rc == 1) return n;
    const ssl_next next = classify(ssl_.get(), rc, ec);
    if (next == ssl_next::wait_read || next == ssl_next::wait_write) {
        want_write_ = next == ssl_next::wait_write;
        ec = asio::error::would_block;
    }
    ERR_clear_error();
    return 0;
}

asio::awaitable<void> tls_socket::wait_ready(bool write, boost::system::error_code& ec) {
    auto [e] = co_await socket_.async_wait(write ? tcp::socket::wait_write : tcp::socket::wait_read, use_tuple);
    ec = e;
}

asio::awaitable<bool> tls_socket::wait_ready_within(bool write, asio::steady_timer& timer,
                                                    std::chrono::steady_clock::duration timeout, const bool& abort,
                                                    boost::system::error_code& ec) {
    // Shared with the timer's handler, which may run after this wait ended
    // (a cancelled or late expiry): it touches the socket only while
    // `waiting` says this coroutine is still suspended in the wait below.
    struct watch {
        bool waiting = true;
        bool fired = false;
    };
    auto w = std::make_shared<watch>();
    timer.expires_after(timeout);
    timer.async_wait([w, &abort, this](const boost::system::error_code& e) {
        if (!w->waiting || (e && !abort)) return;  // the wait is over, or a plain cancel
        w->fired = true;
        boost::system::error_code ignored;
        socket_.cancel(ignored);
    });
    auto [e] = co_await socket_.async_wait(write ? tcp::socket::wait_write : tcp::socket::wait_read, use_tuple);
    w->waiting = false;
    if (w->fired) co_return false;
    ec = e;
    co_return true;
}

std::size_t tls_socket::try_write(std::span<const char> data, boost::system::error_code& ec) {
    ec.clear();
    if (!ssl_) {
        std::size_t done = 0;
        while (done < data.size()) {
            const std::size_t n = socket_.write_some(asio::buffer(data.data() + done, data.size() - done), ec);
            done += n;
            if (ec) break;  // would_block: the caller waits for the rest
        }
        return done;
    }
    std::size_t done = 0;
    while (done < data.size()) {
        std::size_t n = 0;
        ERR_clear_error();
        const int rc = SSL_write_ex(ssl_.get(), data.data() + done, data.size() - done, &n);
        if (rc == 1) {
            done += n;
            continue;
        }
        const ssl_next next = classify(ssl_.get(), rc, ec);
        if (next == ssl_next::wait_read || next == ssl_next::wait_write) ec = asio::error::would_block;
        ERR_clear_error();
        break;
    }
    return done;
}

asio::awaitable<void> tls_socket::write_all(std::span<const char> data, boost::system::error_code& ec) {
    ec.clear();
    if (!ssl_) {
        auto [e, n] = co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), use_tuple);
        ec = e;
        co_return;
    }
    std::size_t done = 0;
    while (done < data.size()) {
        std::size_t n = 0;
        ERR_clear_error();
        const int rc = SSL_write_ex(ssl_.get(), data.data() + done, data.size() - done, &n);
        if (rc == 1) { done += n; continue; }
        const ssl_next next = classify(ssl_.get(), rc, ec);
        if (next == ssl_next::wait_read || next == ssl_next::wait_write) {
            auto [e] = co_await socket_.async_wait(
                next == ssl_next::wait_read ? tcp::socket::wait_read : tcp::socket::wait_write, use_tuple);
            if (e) { ec = e; co_return; }
            continue;
        }
        ERR_clear_error();
        co_return;
    }
}

asio::awaitable<void> tls_socket::upgrade(tls::ssl_ptr ssl, tls_role role, boost::system::error_code& ec,
                                          std::string& error_text) {
    ec.clear();
    error_text.clear();
    ssl_ = std::move(ssl);
    if (!ssl_ || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1) {
        error_text = "cannot create TLS state: " + drain_openssl_errors();
        ssl_.reset();
        ec = asio::error::no_memory;
        co_return;
    }
    // Give plaintext buffers back to the allocator while idle (docs/design.md §9).
    SSL_set_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS);
    // Read whole flights at once: without read-ahead OpenSSL reads each
    // record's 5-byte header and its body with two read(2) calls. Safe with
    // the try-first pattern here: try_read() drains what OpenSSL holds, and
    // only its WANT_READ (it needs bytes from the socket) leads to a wait.
    SSL_set_read_ahead(ssl_.get(), 1);
    if (role == tls_role::server)
        SSL_set_accept_state(ssl_.get());
    else
        SSL_set_connect_state(ssl_.get());
    while (true) {
        ERR_clear_error();
        const int rc = SSL_do_handshake(ssl_.get());
        if (rc == 1) co_return;
        const ssl_next next = classify(ssl_.get(), rc, ec);
        if (next == ssl_next::wait_read || next == ssl_next::wait_write) {
            auto [e] = co_await socket_.async_wait(
                next == ssl_next::wait_read ? tcp::socket::wait_read : tcp::socket::wait_write, use_tuple);
            if (e) { ec = e; error_text = "handshake interrupted: " + e.message(); co_return; }
            continue;
        }
        error_text = drain_openssl_errors();
        if (error_text.empty()) error_text = ec == asio::error::eof ? "peer closed the connection" : ec.message();
        co_return;
    }
}

asio::awaitable<void> tls_socket::shutdown() {
    if (ssl_) {
        // One close_notify, no waiting for the peer's (RFC 8446 §6.1 allows it).
        ERR_clear_error();
        SSL_shutdown(ssl_.get());
        ERR_clear_error();
    }
    close();
    co_return;
}

void tls_socket::close() noexcept {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

tls_facts tls_socket::facts() const {
    tls_facts f;
    if (!ssl_) return f;
    f.protocol = SSL_get_version(ssl_.get());
    if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl_.get())) f.cipher = SSL_CIPHER_get_name(c);
    if (const char* sni = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name)) f.sni = sni;
    return f;
}

tcp::endpoint tls_socket::remote_endpoint() const {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    return ec ? tcp::endpoint{} : ep;
}

}  // namespace dsproxy::net
