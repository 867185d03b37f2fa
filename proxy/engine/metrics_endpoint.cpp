// metrics_endpoint — see metrics_endpoint.hpp.
#include "proxy/engine/metrics_endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace dsproxy::engine {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t header_limit = 8 * 1024;
constexpr std::uint64_t body_limit = 1024;
}  // namespace

metrics_endpoint::metrics_endpoint(asio::io_context& io, std::vector<const metrics_registry*> registries,
                                   std::shared_ptr<spdlog::logger> log, std::function<std::string()> gauges)
    : io_(io), registries_(std::move(registries)), gauges_(std::move(gauges)), log_(std::move(log)), acceptor_(io) {}

bool metrics_endpoint::start(const config::host_port& where, metrics_credentials credentials, std::string& error) {
    credentials_ = std::move(credentials);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(where.host, ec);
    if (ec) {
        error = "metrics: bad address " + where.host;
        return false;
    }
    const asio::ip::tcp::endpoint endpoint(address, where.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        error = "metrics: cannot listen on " + config::to_string(where) + ": " + ec.message();
        return false;
    }
    log_->info("metrics on http://{}/metrics{}", config::to_string(where),
               credentials_.required() ? " (credentials required)" : "");
    asio::co_spawn(io_, accept_loop(), asio::detached);
    return true;
}

void metrics_endpoint::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
}

asio::awaitable<void> metrics_endpoint::accept_loop() {
    while (acceptor_.is_open()) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
        if (ec) {
            if (ec == asio::error::operation_aborted) break;
            log_->warn("metrics: accept failed: {}", ec.message());
            continue;
        }
        if (open_ >= max_connections) continue;  // the socket closes as it goes out of scope
        asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> metrics_endpoint::serve(asio::ip::tcp::socket socket) {
    ++open_;
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(deadline);  // one bound for the whole exchange
    beast::flat_buffer buffer(header_limit);
    // A body is read (up to body_limit) only so that a small POST gets its
    // 405 instead of a dropped connection.
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    auto [rec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)n;
    if (!rec) {
        const auto& request = parser.get();
        http::response<http::string_body> response;
        response.version(request.version());
        response.keep_alive(false);
        const auto target = request.target();
        const bool is_metrics = target == "/metrics" || target.starts_with("/metrics?");  // wire: HTTP target
        if (request.method() != http::verb::get) {
            response.result(http::status::method_not_allowed);
            response.set(http::field::allow, "GET");
            response.body() = "only GET\n";
        } else if (!is_metrics) {
            response.result(http::status::not_found);
            response.body() = "metrics are at /metrics\n";
        } else if (!authorized(credentials_, request[http::field::authorization])) {
            response.result(http::status::unauthorized);
            response.set(http::field::www_authenticate,
                         credentials_.users.empty() ? "Bearer realm=\"dsproxy metrics\"" : "Basic realm=\"dsproxy metrics\"");
            response.body() = "credentials required\n";
        } else {
            response.result(http::status::ok);
            response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            response.body() = metrics_registry::render(registries_);
            if (gauges_) response.body() += gauges_();
        }
        if (response.result() != http::status::ok) response.set(http::field::content_type, "text/plain");
        response.prepare_payload();
        auto [wec, written] = co_await http::async_write(stream, response, use_tuple);
        (void)written;
        (void)wec;  // nothing to do about a scraper that went away
    }
    boost::system::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    stream.socket().close(ec);
    --open_;
}

}  // namespace dsproxy::engine
