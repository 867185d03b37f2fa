// route_lookup — the planner's lookup loop on the resolver.
#include "proxy/net/route_lookup.hpp"

namespace dsproxy::net {

asio::awaitable<routing::route_planner> plan_route(dns_resolver& resolver, routing::route_planner planner) {
    using action = routing::route_step::action;
    for (auto step = planner.next(); step.what != action::done; step = planner.next()) {
        if (step.what == action::query_mx)
            planner.on_mx(co_await resolver.query_mx(step.name));
        else
            planner.on_addresses(co_await resolver.resolve_host(step.name, step.families));
    }
    co_return planner;
}

}  // namespace dsproxy::net
