// next_hop_connect — opens the TCP connection to one next hop (a backend or
// an MX host), for the relay and for `dsproxy probe` alike.
//
// Owns: the address list of one attempt: the addresses routing resolved, an
// IP literal as it is, or else a name resolved here (the getaddrinfo thread
// of Asio's resolver; outbound routing resolves through the libunbound resolver before).
// Must not: decide anything about the failure (the caller's next_hop_attempt
// does), or wait unbounded: resolving and connecting share one deadline each.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct connect_outcome {
    std::optional<tcp::socket> socket;  // connected, else `error` says why (for the log)
    tcp::endpoint endpoint;             // the address connected to
    std::string error;
};

// Connects to `host`:`port`: to `addresses` when given (already resolved),
// else to `host` as an IP literal, else to what resolving `host` gives.
// `timeout` bounds the name resolution and, again, the connect, on `timer`
// (the session's: cancelling it, as stop() does, ends the wait).
asio::awaitable<connect_outcome> connect_next_hop(const std::string& host, std::uint16_t port,
                                                  const std::vector<std::string>& addresses,
                                                  asio::steady_timer& timer,
                                                  std::chrono::steady_clock::duration timeout);

}  // namespace dsproxy::net
