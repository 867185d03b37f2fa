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
// Two recipients may share a transaction only when both their route (the
// hosts in order) and their policy entry are the same; otherwise the second
// gets 452 4.5.3 (RFC 5321 §4.5.3.1.10) and comes back in a new transaction.
#pragma once

#include "config/enums.hpp"
#include "proxy/engine/relay_session.hpp"
#include "proxy/net/dns_resolver.hpp"
#include "proxy/smtp/reply.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <random>
#include <string>

namespace dsproxy::engine {

class runtime;
struct listener_runtime;

struct route_decision {
    std::optional<smtp::reply> refusal;  // routing failed: the RCPT's reply
    upstream_settings upstream;          // hosts in order, TLS policy of the domain
    std::string route_key;               // same key = same next hops
    std::string policy_key;              // the policy entry that applied
    std::string domain;
};

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
