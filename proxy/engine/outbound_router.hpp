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
// MTA-STS: for MX delivery under `mta_sts: opportunistic` the recipient
// domain's policy (sts_service) picks the MX hosts a delivery may use and
// publishes its requirement into the next-hop decision (mta_sts.hpp); an
// enforced policy that lists none of the MX hosts defers (451 4.7.5). A
// static `route` or an address literal is not MX delivery: no lookup. DANE
// takes precedence where it applies (RFC 8461 §2): a host whose TLSA records
// authenticate it is kept and judged by DANE alone.
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

// The route line's MTA-STS fields (" sts=enforce sts_id=... sts_source=fetch
// ..."), empty when nothing was looked up; and the metrics labels of the lookup.
std::string sts_route_fields(const route_decision& d);
std::string_view sts_source(const sts_lookup& l) noexcept;

class outbound_router {
public:
    // `level`, when given, replaces every policy's level (`dsproxy probe --level`).
    outbound_router(const runtime& rt, const listener_runtime& listener, net::dns_resolver& resolver,
                    std::mt19937& random, std::optional<config::tls_level> level = std::nullopt)
        : rt_(rt), listener_(listener), resolver_(resolver), random_(random), level_(level) {}

    // `domain` as the RCPT gave it (converted to an A-label here).
    asio::awaitable<route_decision> route(const std::string& domain);

private:
    void apply_sts(route_decision& d, sts_lookup found) const;

    const runtime& rt_;
    const listener_runtime& listener_;
    net::dns_resolver& resolver_;
    std::mt19937& random_;
    std::optional<config::tls_level> level_;
};

}  // namespace dsproxy::engine
