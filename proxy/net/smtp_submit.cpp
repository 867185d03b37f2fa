// smtp_submit — see smtp_submit.hpp.
#include "proxy/net/smtp_submit.hpp"

#include "proxy/net/next_hop_connect.hpp"
#include "proxy/smtp/reply_parser.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace dsproxy::net {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// RFC 5321 §4.5.2: a line starting with "." gets one more; the message ends
// with CRLF "." CRLF.
std::string dot_stuffed(const std::string& message) {
    std::string out;
    out.reserve(message.size() + 16);
    bool line_start = true;
    for (const char c : message) {
        if (line_start && c == '.') out += '.';
        out += c;
        line_start = c == '\n';
    }
    if (!out.empty() && out.back() != '\n') out += "\r\n";
    return out + ".\r\n";
}

class conversation {
public:
    explicit conversation(tcp::socket socket) : socket_(std::move(socket)), parser_(smtp::smtp_limits{}) {}

    // The next reply, or nullopt when the connection failed or the reply is malformed.
    asio::awaitable<std::optional<smtp::reply>> read_reply() {
        while (true) {
            auto r = parser_.next(pending_);
            pending_.erase(0, r.consumed);
            if (r.state == smtp::reply_parse::status::complete) co_return std::move(r.value);
            if (r.state == smtp::reply_parse::status::failed) co_return std::nullopt;
            std::array<char, 4096> buffer;
            auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), use_tuple);
            if (ec) co_return std::nullopt;
            pending_.append(buffer.data(), n);
        }
    }

    asio::awaitable<std::optional<smtp::reply>> command(const std::string& line) {
        auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(line), use_tuple);
        if (ec) co_return std::nullopt;
        co_return co_await read_reply();
    }

private:
    tcp::socket socket_;
    smtp::reply_parser parser_;
    std::string pending_;
};

asio::awaitable<submission_result> exchange(const submission& s, std::chrono::steady_clock::duration deadline) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto connected = co_await connect_next_hop(s.host, s.port, {}, timer, deadline);
    if (!connected.socket) co_return submission_result{false, "cannot connect: " + connected.error};
    conversation c(std::move(*connected.socket));
    const auto expect = [](const std::optional<smtp::reply>& r, int code) { return r && r->code == code; };
    auto r = co_await c.read_reply();
    if (!expect(r, 220)) co_return submission_result{false, r ? r->first_line() : "no greeting"};
    const std::array<std::pair<std::string, int>, 4> steps{{
        {"EHLO " + s.helo + "\r\n", 250},
        {"MAIL FROM:<" + s.from + ">\r\n", 250},
        {"RCPT TO:<" + s.to + ">\r\n", 250},
        {"DATA\r\n", 354},
    }};
    for (const auto& [line, code] : steps) {
        r = co_await c.command(line);
        if (!r || (r->code != code && !(code == 250 && r->code == 251)))
            co_return submission_result{false, r ? r->first_line() : "connection lost"};
    }
    r = co_await c.command(dot_stuffed(s.message));
    const bool accepted = r && r->positive();
    submission_result out{accepted, r ? r->first_line() : "connection lost after the message"};
    co_await c.command("QUIT\r\n");
    co_return out;
}

}  // namespace

asio::awaitable<submission_result> submit_message(const submission& s, std::chrono::steady_clock::duration deadline) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(deadline);
    auto result = co_await (exchange(s, deadline) || timer.async_wait(use_tuple));
    if (result.index() == 0) co_return std::get<0>(std::move(result));
    co_return submission_result{false, "no answer within the deadline"};
}

}  // namespace dsproxy::net
