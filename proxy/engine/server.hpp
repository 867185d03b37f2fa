// server — the listeners of `dsproxy run`: accept loops with connection
// limits, one coroutine per session, the current runtime snapshot, and
// shutdown (SIGTERM drains, SIGINT stops).
//
// Owns: the acceptors, the connection counters, the set of live sessions and
// the snapshot new sessions start with (reload() swaps it; sessions in
// flight keep theirs).
// Must not: block the event loop.
#pragma once

#include "proxy/engine/metrics_registry.hpp"
#include "proxy/engine/outbound_router.hpp"
#include "proxy/engine/runtime.hpp"
#include "proxy/net/connection_limits.hpp"
#include "proxy/net/dns_resolver.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

namespace dsproxy::engine {

class server {
public:
    // `metrics` (owned by the caller, outliving the server) may be null.
    server(asio::io_context& io, std::shared_ptr<const runtime> rt, std::shared_ptr<spdlog::logger> log,
           metrics_registry* metrics = nullptr);

    // Binds every listen address of every listener and starts accepting.
    // False with `error` set when an address cannot be bound.
    bool start(std::string& error);

    // New sessions use `rt` from now on.
    void reload(std::shared_ptr<const runtime> rt) { runtime_ = std::move(rt); }

    // Stops accepting; sessions may finish for `timeout`, then get 421.
    // `done` runs when the last session has ended.
    void drain(std::chrono::steady_clock::duration timeout, std::function<void()> done);

    std::size_t sessions() const noexcept { return sessions_.size(); }

private:
    struct bound {
        asio::ip::tcp::acceptor acceptor;
        std::size_t listener = 0;  // index into runtime::listeners()
    };

    asio::awaitable<void> accept_loop(bound& b);
    // Connection limits, then the session. `peer` and `local` are the
    // socket's, or what a trusted balancer's PROXY header said.
    void admit(asio::ip::tcp::socket socket, std::size_t listener, const asio::ip::tcp::endpoint& peer,
               const asio::ip::tcp::endpoint& local);
    // A listener with proxy_protocol: the source check and the header first.
    asio::awaitable<void> run_proxied(asio::ip::tcp::socket socket, std::size_t listener);
    asio::awaitable<void> run_session(asio::ip::tcp::socket socket, std::size_t listener,
                                      net::connection_limits::slot slot, asio::ip::tcp::endpoint peer,
                                      asio::ip::tcp::endpoint local);
    asio::awaitable<void> refuse(asio::ip::tcp::socket socket, std::string text);
    void count_refusal(refusal why) {
        if (metrics_) metrics_->connection_refused(why);
    }
    asio::awaitable<void> drain_loop(std::chrono::steady_clock::duration timeout, std::function<void()> done);

    asio::io_context& io_;
    std::shared_ptr<const runtime> runtime_;
    std::shared_ptr<spdlog::logger> log_;
    metrics_registry* metrics_ = nullptr;
    std::shared_ptr<net::connection_limits> limits_;
    std::vector<std::unique_ptr<bound>> acceptors_;
    std::unordered_set<front_session*> sessions_;
    bool draining_ = false;
    std::unique_ptr<net::dns_resolver> resolver_;  // outbound listeners only
    std::mt19937 random_{std::random_device{}()};  // MX tie shuffling
};

}  // namespace dsproxy::engine
