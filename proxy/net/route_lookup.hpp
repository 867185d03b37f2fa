// route_lookup — carries out a route_planner's lookups with the resolver.
//
// Owns: nothing; it is the I/O half of routing. The planner (proxy/routing)
// decides what to look up and what the answers mean; this loop only asks the
// resolver and feeds the answers back, one planner step at a time, in plan
// order. With `tlsa_alongside`, a host's TLSA query (its name chosen by the
// caller, proxy/dane) is in flight together with that host's A/AAAA lookup,
// so DANE costs no extra round trip (docs/design.md §6.4); the answers are
// only collected here, and mean something only to proxy/dane.
// Must not: interpret answers or add its own timeout: each lookup is bounded
// by the resolver (dns_timeout x dns_tries), the session bounds the whole
// lookup with its deadline (`co_await (plan_route(...) || deadline.watch())`),
// and a cancelled lookup comes back as dns_status::cancelled -> 451 4.4.3.
#pragma once

#include "proxy/net/dns_resolver.hpp"
#include "proxy/routing/route_planner.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace dsproxy::net {

// TLSA answers looked up alongside the address lookups, by owner name
// ("_25._tcp.mx.example.com").
using tlsa_answers = std::map<std::string, routing::rdata_answer>;

// For the hop about to be resolved: the TLSA owner name to query in
// parallel with its addresses, or nullopt (no TLSA query for it).
using tlsa_alongside = std::function<std::optional<std::string>(const routing::next_hop&)>;

// Runs `planner` to completion and returns it (hops(), or failure()).
asio::awaitable<routing::route_planner> plan_route(dns_resolver& resolver, routing::route_planner planner);

// The same, with `alongside`'s TLSA queries in flight together with each
// host's address lookup; their answers are added to `tlsa`, which must
// outlive the call.
asio::awaitable<routing::route_planner> plan_route(dns_resolver& resolver, routing::route_planner planner,
                                                  tlsa_alongside alongside, tlsa_answers& tlsa);

}  // namespace dsproxy::net
