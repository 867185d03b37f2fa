// tls_socket — a TCP socket that can be upgraded to TLS in place (STARTTLS),
// driven by Asio's reactor with OpenSSL doing the socket I/O itself.
//
// Owns: the TCP socket and, after the upgrade, the SSL object.
// Why not asio::ssl::stream: it allocates two 17 KiB buffers per stream and
// drives OpenSSL through a BIO pair with two more (docs/design.md §9: ~70 KiB per idle
// TLS session). Here OpenSSL reads and writes the non-blocking fd directly
// (as nginx does) with SSL_MODE_RELEASE_BUFFERS, and we wait for readiness
// with socket::async_wait. Idle TLS sessions then cost OpenSSL's state only.
//
// Must not: buffer application data (the caller owns its buffers), or carry
// any plaintext across the handshake: STARTTLS's CVE-2011-0411 rule is that
// bytes the caller already read before upgrade() are the caller's to discard.
//
// Every operation reports errors as values (error_code); none throws for I/O.
// Cancellation (the session's deadline) aborts the pending readiness wait.
#pragma once

#include "tls/openssl_handles.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

#include <cstddef>
#include <span>
#include <string>
#include <system_error>

namespace dsproxy::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

enum class tls_role { server, client };

// Facts about an established TLS connection, for the log and the Received header.
struct tls_facts {
    std::string protocol;  // "TLSv1.3"
    std::string cipher;    // "TLS_AES_256_GCM_SHA384"
    std::string sni;       // server side: what the client asked for
};

class tls_socket {
public:
    explicit tls_socket(tcp::socket socket);
    tls_socket(tls_socket&&) noexcept = default;
    tls_socket& operator=(tls_socket&&) noexcept = default;

    // Reads what is available now without waiting (the socket is
    // non-blocking). Returns 0 with `ec` = would_block when nothing is; then
    // wait_ready(wants_write()) before trying again. Lets idle sessions hold
    // no read buffer: the caller reads into a buffer shared per thread.
    std::size_t try_read(std::span<char> buffer, boost::system::error_code& ec);
    // After try_read said would_block: true when TLS needs to write first.
    bool wants_write() const noexcept { return want_write_; }
    // Waits until the socket is readable (or writable).
    asio::awaitable<void> wait_ready(bool write, boost::system::error_code& ec);
    // The same, bounded: true when the socket became ready (or the wait
    // failed: `ec`), false when `timeout` passed or `timer` was cancelled
    // while `abort` is true (the session's stop()). Cheaper than wrapping
    // wait_ready() in timed(): one timer wait whose expiry cancels the
    // socket's wait, no parallel group and no extra coroutines — this is the
    // wait an idle session sits in, so it is also what an idle session costs.
    asio::awaitable<bool> wait_ready_within(bool write, asio::steady_timer& timer,
                                            std::chrono::steady_clock::duration timeout, const bool& abort,
                                            boost::system::error_code& ec);

    // Writes what can be written now without waiting; `ec` = would_block
    // when the rest must wait (then write_all() the rest). Replies and
    // gathered upstream writes nearly always complete here, without the
    // cost of a timed wait.
    std::size_t try_write(std::span<const char> data, boost::system::error_code& ec);

    // Writes all of `data`.
    asio::awaitable<void> write_all(std::span<const char> data, boost::system::error_code& ec);

    // Upgrades the connection to TLS with `ssl` (made by the tls/ server or
    // client context, SNI and client certificate already set) and runs the
    // handshake. On failure `ec` is set and `error_text` says what OpenSSL
    // reported.
    asio::awaitable<void> upgrade(tls::ssl_ptr ssl, tls_role role, boost::system::error_code& ec,
                                  std::string& error_text);

    // Sends close_notify (best effort, bounded by the caller's deadline) and
    // closes the socket.
    asio::awaitable<void> shutdown();
    void close() noexcept;

    bool is_tls() const noexcept { return ssl_ != nullptr; }
    SSL* ssl() const noexcept { return ssl_.get(); }
    tls_facts facts() const;
    tcp::socket& socket() noexcept { return socket_; }
    tcp::endpoint remote_endpoint() const;

private:
    tcp::socket socket_;
    tls::ssl_ptr ssl_;
    bool want_write_ = false;
};

}  // namespace dsproxy::net
