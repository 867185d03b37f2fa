// route_lookup — carries out a route_planner's lookups with the resolver.
//
// Owns: nothing; it is the I/O half of routing. The planner (proxy/routing)
// decides what to look up and what the answers mean; this loop only asks the
// resolver and feeds the answers back, one lookup at a time, in plan order.
// Must not: interpret answers or add its own timeout: the session bounds the
// whole lookup with its deadline (`co_await (plan_route(...) || deadline.watch())`),
// and a cancelled lookup comes back as dns_status::cancelled -> 451 4.4.3.
#pragma once

#include "proxy/net/dns_resolver.hpp"
#include "proxy/routing/route_planner.hpp"

#include <boost/asio/awaitable.hpp>

namespace dsproxy::net {

// Runs `planner` to completion and returns it (hops(), or failure()).
asio::awaitable<routing::route_planner> plan_route(dns_resolver& resolver, routing::route_planner planner);

}  // namespace dsproxy::net
