// outbound_router — where a recipient domain's mail goes and under which TLS
// policy (docs/design.md §1 outbound, §6.1, §6.3).
//
// Owns: nothing but references; for each recipient domain it looks up the
// policy (exact, `.parent`, default), plans the route (the policy's static
// `route`, else MX by preference, else the implicit MX) through the resolver,
// and turns both into the upstream_settings a relay_session connects with.
// Must not: connect anywhere (relay_session does), or block: DNS goes through
// the asynchronous resolver.
//
// Which recipients share a transaction: outbound_route.hpp.
#pragma once

#include "config/enums.hpp"
#include "proxy/engine/outbound_route.hpp"
#include "proxy/net/dns_resolver.hpp"
#include "proxy/smtp/reply.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <random>
#include <string>

namespace dsproxy::engine {

namespace asio = boost::asio;

class runtime;
struct listener_runtime;

class outbound_router {
public:
    // `level`, when given, replaces every policy's level (`dsproxy probe --level`).
    outbound_router(const runtime& rt, const listener_runtime& listener, net::dns_resolver& resolver,
                    std::mt19937& random, std::optional<config::tls_level> level = std::nullopt)
        : rt_(rt), listener_(listener), resolver_(resolver), random_(random), level_(level) {}

    // `domain` as the RCPT gave it (converted to an A-label here).
    asio::awaitable<route_decision> route(const std::string& domain);

private:
    const runtime& rt_;
    const listener_runtime& listener_;
    net::dns_resolver& resolver_;
    std::mt19937& random_;
    std::optional<config::tls_level> level_;
};

}  // namespace dsproxy::engine
