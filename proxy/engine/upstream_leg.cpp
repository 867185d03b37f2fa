// upstream_leg — see upstream_leg.hpp.
#include "proxy/engine/upstream_leg.hpp"

#include "proxy/engine/engine_limits.hpp"
#include "proxy/engine/next_hop_link.hpp"
#include "proxy/engine/timed.hpp"
#include "proxy/net/next_hop_connect.hpp"

#include <array>
#include <span>

namespace dsproxy::engine {

namespace {

std::span<char> shared_upstream_buffer() {
    // Per I/O thread, not per leg: an idle session holds no read buffer.
    thread_local std::array<char, limits::read_buffer> buffer;
    return buffer;
}

}  // namespace

smtp::client_options next_hop_options(const upstream_settings& upstream, smtp::xclient_facts client) {
    smtp::client_options options;
    options.helo_name = upstream.helo_name;
    options.limits = upstream.limits;
    if (upstream.xclient) options.xclient = std::move(client);
    return options;
}

upstream_leg::upstream_leg(net::tls_socket s, smtp::client_options o, upstream_host h, std::size_t i)
    : socket(std::move(s)), machine(std::move(o)), host(std::move(h)), index(i) {
    if (host.dane && host.dane->action != dane::dane_action::none) dane = dane::dane_outcome::failed;
}

asio::awaitable<upstream_leg::opened> upstream_leg::open(const upstream_host& host, std::size_t index,
                                                         smtp::client_options options,
                                                         const std::optional<std::string>& proxy_header,
                                                         asio::steady_timer& timer, steady_clock::duration timeout,
                                                         metrics_registry* metrics) {
    const auto started = steady_clock::now();
    auto connected = co_await net::connect_next_hop(host.host, host.port, host.addresses, timer, timeout);
    if (!connected.socket) co_return opened{nullptr, smtp::upstream_failure{smtp::failure_kind::connect, connected.error}};
    net::tls_socket socket(std::move(*connected.socket));
    if (proxy_header) {
        boost::system::error_code ec;
        const bool written = co_await timed(timer, timeout, socket.write_all(*proxy_header, ec));
        if (!written || ec)
            co_return opened{nullptr,
                             smtp::upstream_failure{smtp::failure_kind::connect, "cannot send the PROXY header"}};
    }
    if (metrics) metrics->upstream_connected(steady_clock::now() - started);
    co_return opened{std::make_unique<upstream_leg>(std::move(socket), std::move(options), host, index), {}};
}

bool upstream_leg::gather(std::string bytes) {
    if (out_.empty())
        out_ = std::move(bytes);  // a block of content: moved, not copied
    else
        out_ += bytes;
    return out_.size() >= limits::upstream_gather;
}

asio::awaitable<std::optional<std::string>> upstream_leg::flush(asio::steady_timer& timer,
                                                                steady_clock::duration timeout) {
    if (dead || out_.empty()) co_return std::nullopt;
    boost::system::error_code ec;
    const std::size_t now = socket.try_write(out_, ec);
    bool done = true;
    if (ec == asio::error::would_block)
        done = co_await timed(timer, timeout, socket.write_all(std::span<const char>(out_).subspan(now), ec));
    out_.clear();
    if (out_.capacity() > 2 * limits::upstream_gather) std::string().swap(out_);
    if (done && !ec) co_return std::nullopt;
    dead = true;
    write_timed_out_ = !done;
    co_return done ? ec.message() : std::string("timeout");
}

asio::awaitable<upstream_leg::read_result> upstream_leg::read(asio::steady_timer& timer,
                                                              steady_clock::duration timeout, const bool& abort) {
    const auto buffer = shared_upstream_buffer();
    boost::system::error_code ec;
    const std::size_t n = socket.try_read(buffer, ec);
    if (n > 0) co_return read_result{read_status::bytes, machine.on_bytes(std::string_view(buffer.data(), n))};
    if (ec == asio::error::would_block) {
        const bool ready = co_await socket.wait_ready_within(socket.wants_write(), timer, timeout, abort, ec);
        if (!ready) co_return read_result{abort ? read_status::stopped : read_status::timed_out, {}};
        if (!ec) co_return read_result{read_status::ready_again, {}};
    }
    co_return read_result{read_status::closed, machine.on_closed()};
}

asio::awaitable<void> upstream_leg::close(asio::steady_timer& timer, steady_clock::duration bound) {
    if (dead)
        co_await socket.shutdown();
    else
        co_await quit_next_hop(socket, machine, timer, bound);
}

}  // namespace dsproxy::engine
