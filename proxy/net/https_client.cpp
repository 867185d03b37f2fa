// https_client — see https_client.hpp.
#include "proxy/net/https_client.hpp"

#include "matching/idn.hpp"
#include "proxy/net/next_hop_connect.hpp"
#include "proxy/net/tls_socket.hpp"
#include "tls/peer_verification.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <sstream>

namespace dsproxy::net {

namespace {

namespace http = boost::beast::http;
using sts::fetch_error;

https_response failure(fetch_error e, std::string detail) {
    https_response r;
    r.error = e;
    r.detail = std::move(detail);
    return r;
}

std::string host_header(const sts::https_url& url) {
    std::string host = url.host.find(':') != std::string::npos ? '[' + url.host + ']' : url.host;  // wire: IPv6
    if (url.port != 443) host += ':' + std::to_string(url.port);
    return host;
}

std::string serialize(const https_request& r) {
    http::request<http::string_body> req{r.post ? http::verb::post : http::verb::get, r.url.target, 11};
    req.set(http::field::host, host_header(r.url));
    req.set(http::field::user_agent, "dsproxy");
    req.set(http::field::connection, "close");
    if (r.post) {
        req.set(http::field::content_type, r.content_type);
        req.body() = r.body;
        req.prepare_payload();
    }
    std::ostringstream out;
    out << req;
    return out.str();
}

// Everything but the total deadline, which https_exchange wraps around it.
asio::awaitable<https_response> exchange(const https_request& request, const std::vector<std::string>& addresses,
                                         https_context context, https_limits limits) {
    const auto& url = request.url;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto connected = co_await connect_next_hop(url.host, url.port, addresses, timer, limits.deadline);
    if (!connected.socket) co_return failure(fetch_error::connect, "cannot connect: " + connected.error);
    tls_socket socket(std::move(*connected.socket));

    std::string error;
    auto ssl = context.client.new_session(url.host, nullptr, error);
    if (!ssl) co_return failure(fetch_error::tls, error);
    boost::system::error_code ec;
    co_await socket.upgrade(std::move(ssl), tls_role::client, ec, error);
    if (ec) co_return failure(fetch_error::tls, "TLS handshake failed: " + error);

    // RFC 8461 §3.3: the certificate must chain to a trusted root and name
    // the host (RFC 6125). An IP literal host has no name to check: refused.
    tls::verify_request check;
    check.host = matching::reference_name::parse(url.host);
    if (!check.host) co_return failure(fetch_error::certificate, "no host name to check the certificate against");
    const auto verdict = tls::verify_peer(*socket.ssl(), context.trust, check);
    if (!verdict.passed) co_return failure(fetch_error::certificate, "certificate refused: " + verdict.reason);

    const std::string wire = serialize(request);
    co_await socket.write_all(wire, ec);
    if (ec) co_return failure(fetch_error::connect, "cannot send the request: " + ec.message());

    http::response_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header));
    parser.body_limit(limits.max_body);
    parser.eager(true);
    std::array<char, 16 * 1024> buffer;
    std::string pending;  // bytes the parser has not consumed yet
    while (!parser.is_done()) {
        const std::size_t n = socket.try_read(buffer, ec);
        if (ec == boost::asio::error::would_block) {
            co_await socket.wait_ready(socket.wants_write(), ec);
            if (ec) co_return failure(fetch_error::connect, "connection failed: " + ec.message());
            continue;
        }
        boost::system::error_code pe;
        if (ec == boost::asio::error::eof || (ec && n == 0)) {
            if (ec != boost::asio::error::eof) co_return failure(fetch_error::connect, "connection failed: " + ec.message());
            parser.put_eof(pe);  // a body delimited by the close
            if (pe) co_return failure(fetch_error::connect, "the response ended early: " + pe.message());
            break;
        }
        pending.append(buffer.data(), n);
        while (!pending.empty() && !parser.is_done()) {
            const std::size_t used = parser.put(boost::asio::buffer(pending), pe);
            if (pe == http::error::need_more) break;
            if (pe == http::error::body_limit || pe == http::error::header_limit)
                co_return failure(fetch_error::too_large, "the response is over the limit (" + pe.message() + ")");
            if (pe) co_return failure(fetch_error::connect, "malformed HTTP response: " + pe.message());
            pending.erase(0, used);
            if (used == 0) break;
        }
    }
    co_await socket.shutdown();
    const auto& response = parser.get();
    https_response out;
    out.status = response.result_int();
    out.content_type = std::string(response[http::field::content_type]);
    out.body = response.body();
    co_return out;
}

}  // namespace

asio::awaitable<https_response> https_exchange(const https_request& request, const std::vector<std::string>& addresses,
                                               https_context context, https_limits limits) {
    using namespace boost::asio::experimental::awaitable_operators;
    asio::steady_timer deadline(co_await asio::this_coro::executor);
    deadline.expires_after(limits.deadline);
    auto result = co_await (exchange(request, addresses, context, limits) ||
                            deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (result.index() == 0) co_return std::get<0>(std::move(result));
    co_return failure(fetch_error::timeout, "no complete response within the deadline");
}

}  // namespace dsproxy::net
