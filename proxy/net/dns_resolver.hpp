// dns_resolver — asynchronous MX and A/AAAA lookups on Asio, with c-ares.
//
// Owns: one c-ares channel, the Asio descriptors that watch c-ares's sockets
// (sock_state_cb -> posix::stream_descriptor::async_wait -> ares_process_fd),
// one steady_timer driven by ares_timeout, and the queries in flight.
// Must not: block the event loop (no res_query, no getaddrinfo), close the
// sockets it watches (c-ares owns them: we release() the descriptor before
// dropping it), consult /etc/hosts or search domains (mail routing uses DNS
// only and absolute names: ares_query, never ares_search or getaddrinfo),
// decide routes (proxy/routing does), or be used from two threads: one
// resolver per I/O thread, called from that thread's executor only.
//
// Errors are values: every lookup completes with a routing::dns_status,
// including timeout, cancellation (the caller's `||` deadline) and the
// resolver's destruction. Nothing throws after create(). A cancelled lookup
// completes at once; c-ares 1.18 cannot cancel one query, so its packets
// live on until its own timeout and the late answer is dropped.
//
// Threats: answers come from the network. c-ares parses them; we take at
// most max_records_per_answer records from one answer, so a huge TCP answer
// cannot grow a route without bound.
#pragma once

#include "proxy/routing/dns_answer.hpp"
#include "proxy/routing/next_hop.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace dsproxy::net {

namespace asio = boost::asio;

// Records taken from one answer; the rest are ignored. 64 is far above any
// sane MX set or round-robin A set, and far below a 64 KiB TCP answer.
inline constexpr std::size_t max_records_per_answer = 64;

struct resolver_settings {
    // Empty: the servers of /etc/resolv.conf. Otherwise a comma-separated
    // list as c-ares reads it: "127.0.0.1:5353,[::1]:53".
    std::string servers;
    // Per try and server, as resolv.conf's `timeout` (c-ares backs off on
    // later tries). RFC 1536 and resolv.conf default to 5 s and 2 tries.
    std::chrono::milliseconds timeout{5000};
    int tries = 2;
};

class dns_resolver {
public:
    // Start-up: returns nullptr and sets `error` when c-ares cannot be
    // initialised or the server list does not parse.
    static std::unique_ptr<dns_resolver> create(const asio::any_io_executor& executor,
                                                const resolver_settings& settings, std::string& error);
    // Pending lookups complete with dns_status::cancelled.
    ~dns_resolver();
    dns_resolver(const dns_resolver&) = delete;
    dns_resolver& operator=(const dns_resolver&) = delete;

    // MX records of `domain` (absolute name, no search list).
    asio::awaitable<routing::mx_answer> query_mx(std::string domain);
    // A and AAAA of `host`, queried in parallel and combined with
    // routing::combine_families. An IP literal is returned as is.
    asio::awaitable<routing::address_answer> resolve_host(std::string host);

    // The servers c-ares is using, "127.0.0.1:5353,...", for the log.
    std::string servers() const;

    class core;  // c-ares glue, in dns_resolver.cpp

private:
    explicit dns_resolver(std::shared_ptr<core> core) : core_(std::move(core)) {}
    std::shared_ptr<core> core_;
};

}  // namespace dsproxy::net
