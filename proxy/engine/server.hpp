// server — one I/O thread's share of `dsproxy run`: accept loops on the
// listen sockets, connection limits, one coroutine per session, and that
// thread's part of the shutdown (SIGTERM drains, SIGINT stops).
//
// Owns: its acceptors (its own descriptors of the process's listen sockets),
// its DNS resolver (one libunbound context per snapshot) and MX shuffle, the set of its live
// sessions. Shared with the other threads, not owned: the runtime_slot (the
// snapshot new sessions start with; sessions in flight keep theirs), the
// connection limits (one set of counts for the process), the logger.
// Threading: every member function but sessions() runs on this server's
// io_context thread (server_pool posts drain() there).
// Must not: block the event loop.
#pragma once

#include "proxy/engine/metrics_registry.hpp"
#include "proxy/engine/outbound_router.hpp"
#include "proxy/engine/runtime.hpp"
#include "proxy/engine/runtime_slot.hpp"
#include "proxy/engine/session_board.hpp"
#include "proxy/net/connection_limits.hpp"
#include "proxy/net/dns_resolver.hpp"
#include "proxy/net/listen_socket.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

namespace dsproxy::engine {

// A listen socket and the listener (index into runtime::listeners()) it serves.
struct listen_binding {
    net::listen_socket socket;
    std::size_t listener = 0;
};

class server {
public:
    // `slot`, `board`, `limits` and `metrics` (this thread's registry; may be
    // null) are owned by the caller and outlive the server. `index` is this
    // thread's place on the board and its name in the log.
    server(asio::io_context& io, const runtime_slot& slot, session_board& board,
           std::shared_ptr<net::connection_limits> limits, std::shared_ptr<spdlog::logger> log,
           metrics_registry* metrics, std::size_t index);

    // Sets up an acceptor on each of `sockets` (its own descriptor) and, for
    // outbound listeners, the DNS resolver; the accept loops start when the
    // io_context runs. False with `error` set.
    bool start(std::span<const listen_binding> sockets, std::string& error);

    // Stops accepting; sessions may finish until `deadline`, then get 421.
    // `done` runs (on this thread) when the last session has ended.
    void drain(std::chrono::steady_clock::time_point deadline, std::function<void()> done);

    // Sessions open now; safe from any thread.
    std::size_t sessions() const noexcept { return board_.get(index_); }

private:
    struct bound {
        asio::ip::tcp::acceptor acceptor;
        std::string listener;  // its name: a reload may reorder the listeners of the configuration
    };

    asio::awaitable<void> accept_loop(bound& b);
    // Connection limits, then the session, all under the snapshot `rt` taken
    // at accept time (`listener` indexes its listeners). `peer` and `local`
    // are the socket's, or what a trusted balancer's PROXY header said.
    void admit(asio::ip::tcp::socket socket, std::shared_ptr<const runtime> rt, std::size_t listener,
               const asio::ip::tcp::endpoint& peer, const asio::ip::tcp::endpoint& local);
    // A listener with proxy_protocol: the source check and the header first.
    asio::awaitable<void> run_proxied(asio::ip::tcp::socket socket, std::shared_ptr<const runtime> rt,
                                      std::size_t listener);
    asio::awaitable<void> run_session(asio::ip::tcp::socket socket, std::shared_ptr<const runtime> rt,
                                      std::size_t listener, net::connection_limits::slot slot,
                                      asio::ip::tcp::endpoint peer, asio::ip::tcp::endpoint local);
    asio::awaitable<void> refuse(asio::ip::tcp::socket socket, std::string text);
    // This thread's resolver for snapshot `rt`, built on first use.
    std::shared_ptr<net::dns_resolver> resolver_for(const std::shared_ptr<const runtime>& rt, std::string& error);
    static bool rate_exempt(const config::limits& lim, const asio::ip::address& client);
    void count_refusal(refusal why) {
        if (metrics_) metrics_->connection_refused(why);
    }
    asio::awaitable<void> drain_loop(std::chrono::steady_clock::time_point deadline, std::function<void()> done);

    asio::io_context& io_;
    const runtime_slot& slot_;
    session_board& board_;  // sessions_.size() of every thread, readable from any
    std::shared_ptr<spdlog::logger> log_;
    metrics_registry* metrics_ = nullptr;
    std::size_t index_ = 0;
    std::shared_ptr<net::connection_limits> limits_;
    std::vector<std::unique_ptr<bound>> acceptors_;
    std::unordered_set<front_session*> sessions_;
    bool draining_ = false;
    // Outbound listeners only: this thread's resolver for the snapshot it was
    // built from; a session of a newer snapshot gets a new one.
    std::shared_ptr<net::dns_resolver> resolver_;
    std::weak_ptr<const runtime> resolver_snapshot_;
    std::mt19937 random_{std::random_device{}()};  // MX tie shuffling
};

}  // namespace dsproxy::engine
