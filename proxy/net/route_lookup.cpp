// route_lookup — the planner's lookup loop on the resolver.
#include "proxy/net/route_lookup.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace dsproxy::net {

asio::awaitable<routing::route_planner> plan_route(dns_resolver& resolver, routing::route_planner planner) {
    tlsa_answers none;
    co_return co_await plan_route(resolver, std::move(planner), tlsa_alongside(), none);
}

asio::awaitable<routing::route_planner> plan_route(dns_resolver& resolver, routing::route_planner planner,
                                                  tlsa_alongside alongside, tlsa_answers& tlsa) {
    using action = routing::route_step::action;
    for (auto step = planner.next(); step.what != action::done; step = planner.next()) {
        if (step.what == action::query_mx) {
            planner.on_mx(co_await resolver.query_mx(step.name));
            continue;
        }
        std::optional<std::string> owner;
        if (const auto* hop = planner.resolving_hop(); hop && alongside) owner = alongside(*hop);
        if (!owner || tlsa.contains(*owner)) {
            planner.on_addresses(co_await resolver.resolve_host(step.name, step.families));
            continue;
        }
        // Both queries in flight at once; each completes (with a status,
        // never an exception), so `&&` waits for the two answers.
        using namespace asio::experimental::awaitable_operators;
        auto [addresses, records] =
            co_await (resolver.resolve_host(step.name, step.families) && resolver.query_tlsa(*owner));
        tlsa.emplace(std::move(*owner), std::move(records));
        planner.on_addresses(addresses);
    }
    co_return planner;
}

}  // namespace dsproxy::net
