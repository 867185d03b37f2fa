// server_pool — the I/O threads of `dsproxy run` (docs/design.md §8, issue 8): N
// threads, each with its own io_context, server and metrics registry,
// accepting from listen sockets that are bound once for the process.
//
// Owns: the listen sockets, the connection limits (one set of counts across
// all threads), the session board (which thread should accept), and per thread: the io_context, the server, the registry
// and the std::thread. Not owned: the runtime_slot and the logger (thread-
// safe: spdlog with an _mt sink).
// Lifecycle, all called from the main thread:
//   open()  bind every listen address (as root, before privileges are
//           dropped) and set up each thread's server; no thread runs yet;
//   run()   start the threads (with SIGTERM/SIGINT/SIGHUP blocked in them,
//           so that only the main thread's signal_set sees those);
//   drain() post the drain to every thread; `done` runs on the caller's
//           executor once every thread's last session has ended;
//   stop()  stop every event loop at once (a second SIGINT, or after the
//           drain); join() waits for the threads.
// Must not: share an io_context or a resolver between threads, or call into
// a server from any thread but its own (everything goes through post()).
#pragma once

#include "proxy/engine/metrics_registry.hpp"
#include "proxy/engine/runtime_slot.hpp"
#include "proxy/engine/server.hpp"
#include "proxy/net/connection_limits.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <spdlog/logger.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace dsproxy::engine {

// `configured` (process.io_threads; 0 = auto) as a thread count: the cores
// this process may run on, at least 1.
std::size_t io_thread_count(std::uint64_t configured);

class server_pool {
public:
    server_pool(std::size_t threads, const runtime_slot& slot, std::shared_ptr<spdlog::logger> log);
    ~server_pool();  // stops and joins
    server_pool(const server_pool&) = delete;
    server_pool& operator=(const server_pool&) = delete;

    bool open(std::string& error);
    void run();
    void drain(std::chrono::steady_clock::duration timeout, boost::asio::any_io_executor where,
               std::function<void()> done);
    void stop();
    void join();

    // A reload's new limits (max_connections, max_connections_per_client)
    // for connections admitted from now on.
    void apply_limits(const config::limits& limits);

    std::size_t threads() const noexcept { return workers_.size(); }
    std::size_t sessions() const;
    std::vector<const metrics_registry*> registries() const;

private:
    struct worker {
        asio::io_context io{1};  // concurrency hint: one thread runs it (others only post to it)
        metrics_registry metrics;
        std::unique_ptr<server> srv;
        std::thread thread;
    };

    const runtime_slot& slot_;
    std::shared_ptr<spdlog::logger> log_;
    std::shared_ptr<net::connection_limits> limits_;
    std::unique_ptr<session_board> board_;  // before the workers: their servers use it
    std::vector<listen_binding> sockets_;
    std::vector<std::unique_ptr<worker>> workers_;
};

}  // namespace dsproxy::engine
