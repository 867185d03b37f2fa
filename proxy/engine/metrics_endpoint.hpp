// metrics_endpoint — the optional HTTP listener (`metrics.listen`) that
// serves the registries in Prometheus text format at GET /metrics: one
// registry per I/O thread, summed at each scrape.
//
// Owns: its acceptor and the scrape connections (one request each, then
// close: scrapers open a connection per scrape anyway).
// Must not: serve anything but /metrics, keep a connection past one request,
// or wait unbounded: each connection has one deadline for read and write.
// Limits: a request header of at most 8 KiB and a body of at most 1 KiB
// (Beast's parser limits), at most max_connections scrapes at once (more are closed).
#pragma once

#include "config/address.hpp"
#include "proxy/engine/metrics_auth.hpp"
#include "proxy/engine/metrics_registry.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <spdlog/logger.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dsproxy::engine {

namespace asio = boost::asio;

class metrics_endpoint {
public:
    static constexpr std::size_t max_connections = 16;
    static constexpr std::chrono::seconds deadline{10};

    // The registries outlive the endpoint; they may be updated from other
    // threads while a scrape reads them (metrics_registry locks).
    // `gauges`, when set, renders samples of the current state (the
    // certificate store's expiry times) appended to each scrape.
    metrics_endpoint(asio::io_context& io, std::vector<const metrics_registry*> registries,
                     std::shared_ptr<spdlog::logger> log, std::function<std::string()> gauges = {});

    // Binds and starts serving; a scrape without `credentials` (when they
    // require any) gets 401. False with `error` set when it cannot bind.
    bool start(const config::host_port& where, metrics_credentials credentials, std::string& error);
    // Stops accepting (the drain at shutdown).
    void stop();

private:
    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve(asio::ip::tcp::socket socket);

    asio::io_context& io_;
    std::vector<const metrics_registry*> registries_;
    std::function<std::string()> gauges_;
    metrics_credentials credentials_;
    std::shared_ptr<spdlog::logger> log_;
    asio::ip::tcp::acceptor acceptor_;
    std::size_t open_ = 0;
};

}  // namespace dsproxy::engine
