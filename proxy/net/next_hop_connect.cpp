// next_hop_connect — see next_hop_connect.hpp.
#include "proxy/net/next_hop_connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace dsproxy::net {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// `step` or the deadline, whichever comes first; nullopt on the deadline.
template <class T>
asio::awaitable<std::optional<T>> within(asio::steady_timer& timer, std::chrono::steady_clock::duration timeout,
                                         asio::awaitable<T> step) {
    using namespace asio::experimental::awaitable_operators;
    timer.expires_after(timeout);
    auto result = co_await (std::move(step) || timer.async_wait(use_tuple));
    if (result.index() == 0) co_return std::get<0>(std::move(result));
    co_return std::nullopt;
}

}  // namespace

asio::awaitable<connect_outcome> connect_next_hop(const std::string& host, std::uint16_t port,
                                                  const std::vector<std::string>& addresses,
                                                  asio::steady_timer& timer,
                                                  std::chrono::steady_clock::duration timeout) {
    auto executor = co_await asio::this_coro::executor;
    connect_outcome out;
    std::vector<tcp::endpoint> endpoints;
    boost::system::error_code literal_ec;
    const auto literal = asio::ip::make_address(host, literal_ec);
    if (!addresses.empty()) {
        for (const auto& a : addresses) {
            boost::system::error_code aec;
            const auto address = asio::ip::make_address(a, aec);
            if (!aec) endpoints.emplace_back(address, port);
        }
    } else if (!literal_ec) {
        // An IP literal (the usual backend): no resolver, whose thread would
        // cost two context switches per session.
        endpoints.emplace_back(literal, port);
    } else {
        tcp::resolver resolver(executor);
        auto resolved = co_await within(timer, timeout, resolver.async_resolve(host, std::to_string(port), use_tuple));
        if (!resolved) {
            out.error = "name resolution timed out";
            co_return out;
        }
        auto [rec, results] = std::move(*resolved);
        if (rec) {
            out.error = "cannot resolve: " + rec.message();
            co_return out;
        }
        for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    if (endpoints.empty()) {
        out.error = "no address to connect to";
        co_return out;
    }
    tcp::socket socket(executor);
    auto connected = co_await within(timer, timeout, asio::async_connect(socket, endpoints, use_tuple));
    if (!connected) {
        out.error = "connect timed out";
        co_return out;
    }
    if (auto [cec, ep] = *connected; cec) {
        out.error = "connect failed: " + cec.message();
        co_return out;
    } else {
        out.endpoint = ep;
    }
    out.socket.emplace(std::move(socket));
    co_return out;
}

}  // namespace dsproxy::net
