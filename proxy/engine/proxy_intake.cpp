// proxy_intake — see proxy_intake.hpp. Wire format: haproxy
// doc/proxy-protocol.txt (v1 is one text line, v2 a 16-octet binary prefix
// whose last two octets give the length of the rest).
#include "proxy/engine/proxy_intake.hpp"

#include "proxy/engine/timed.hpp"
#include "proxy/protocol/proxy_header.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstring>

namespace dsproxy::engine {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Every valid header is at least 15 octets ("PROXY UNKNOWN\r\n"; v2 is 16),
// so the first read may ask for 8 without waiting for bytes that never come.
constexpr std::size_t first_read = 8;
constexpr std::size_t v2_fixed = 16;
constexpr char v2_prefix[] = "\r\n\r\n";

asio::ip::address plain(const asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    return a;
}

// How many more octets the header needs at least, given what was read and
// that the parser asked for more. v1 has no length field: one octet at a
// time, so nothing after its CRLF is ever consumed (at most 107 reads, and
// only from a trusted balancer).
std::size_t more_needed(const std::string& got) {
    if (got.size() >= 4 && std::memcmp(got.data(), v2_prefix, 4) == 0) {
        if (got.size() < v2_fixed) return v2_fixed - got.size();
        const std::size_t length = (static_cast<unsigned char>(got[14]) << 8) | static_cast<unsigned char>(got[15]);
        return v2_fixed + length > got.size() ? v2_fixed + length - got.size() : 1;
    }
    return 1;
}

asio::awaitable<intake_result> read_header(asio::ip::tcp::socket& socket) {
    intake_result out;
    std::string got;
    std::size_t want = first_read;
    while (true) {
        const std::size_t at = got.size();
        got.resize(at + want);
        auto [ec, n] = co_await asio::async_read(socket, asio::buffer(got.data() + at, want), use_tuple);
        got.resize(at + n);
        if (ec) {
            out.error = ec == asio::error::eof ? "connection closed before a complete PROXY header"
                                               : "cannot read the PROXY header: " + ec.message();
            co_return out;
        }
        const auto parsed = protocol::parse(got);
        if (parsed.status == protocol::parse_status::invalid) {
            out.error = parsed.error;
            co_return out;
        }
        if (parsed.status == protocol::parse_status::need_more) {
            if (got.size() >= protocol::max_header_size) {
                out.error = "PROXY header longer than " + std::to_string(protocol::max_header_size) + " octets";
                co_return out;
            }
            want = more_needed(got);
            continue;
        }
        out.version = got.starts_with("PROXY ") ? "v1" : "v2";  // wire: v1 is text, v2 a binary signature
        boost::system::error_code pec, lec;
        out.client = socket.remote_endpoint(pec);
        out.local = socket.local_endpoint(lec);
        if (pec || lec) {
            out.error = "connection lost while reading the PROXY header";
            co_return out;
        }
        if (!parsed.header.local) {
            // The parser validated both literals; make_address cannot fail on them.
            const auto& e = parsed.header.endpoints;
            boost::system::error_code sec, dec;
            const auto source = asio::ip::make_address(e.source_address, sec);
            const auto destination = asio::ip::make_address(e.destination_address, dec);
            if (sec || dec) {
                out.error = "PROXY header with an unusable address";
                co_return out;
            }
            out.client = {source, e.source_port};
            out.local = {destination, e.destination_port};
        }
        out.ok = true;
        co_return out;
    }
}

}  // namespace

bool is_trusted_source(const std::vector<config::cidr>& sources, const asio::ip::address& peer) {
    const auto ip = config::parse_ip(plain(peer).to_string());
    if (!ip) return false;
    for (const auto& block : sources)
        if (block.contains(*ip)) return true;
    return false;
}

asio::awaitable<intake_result> read_proxy_header(asio::ip::tcp::socket& socket,
                                                 std::chrono::steady_clock::duration timeout) {
    asio::steady_timer timer(socket.get_executor());
    auto result = co_await timed(timer, timeout, read_header(socket));
    if (!result) {
        intake_result out;
        out.error = "no complete PROXY header within the deadline";
        co_return out;
    }
    co_return std::move(*result);
}

}  // namespace dsproxy::engine
