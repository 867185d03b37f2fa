// listen_socket — one bound, listening TCP socket of a listener, bound once
// per process and shared by the I/O threads: each thread accepts through its
// own descriptor of it (duplicate()), so whichever thread is free takes the
// next connection, and the kernel keeps one accept queue.
//
// Why not SO_REUSEPORT: with it a second dsproxy started by mistake binds the
// same port without an error and silently takes half the connections, and
// closing one thread's socket would reset the connections queued on it. One
// socket keeps "address already in use" and loses nothing at a drain.
//
// Owns: the descriptor (closed on destruction; close-on-exec).
// Must not: accept or read; that is the servers' job on their own threads.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <string>

namespace dsproxy::net {

class listen_socket {
public:
    // socket, SO_REUSEADDR (restart while old connections are in TIME_WAIT),
    // IPV6_V6ONLY for IPv6 addresses (so [::]:25 and 0.0.0.0:25 can both be
    // listed), bind, listen. nullopt with `error` set (strerror words).
    static std::optional<listen_socket> open(const boost::asio::ip::tcp::endpoint& endpoint, std::string& error);

    listen_socket(listen_socket&& other) noexcept;
    listen_socket& operator=(listen_socket&& other) noexcept;
    listen_socket(const listen_socket&) = delete;
    listen_socket& operator=(const listen_socket&) = delete;
    ~listen_socket();

    // A new descriptor of the same socket (close-on-exec) for one thread's
    // acceptor, which then owns it; -1 with `error` set on failure.
    int duplicate(std::string& error) const;

    const boost::asio::ip::tcp::endpoint& endpoint() const noexcept { return endpoint_; }

private:
    listen_socket(int fd, boost::asio::ip::tcp::endpoint endpoint) : fd_(fd), endpoint_(endpoint) {}
    int fd_ = -1;
    boost::asio::ip::tcp::endpoint endpoint_;
};

}  // namespace dsproxy::net
