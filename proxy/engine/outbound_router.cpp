// outbound_router — see outbound_router.hpp.
#include "proxy/engine/outbound_router.hpp"

#include "proxy/dane/tlsa_lookup.hpp"
#include "proxy/engine/dane_check.hpp"
#include "proxy/engine/runtime.hpp"
#include "proxy/net/route_lookup.hpp"
#include "proxy/routing/route_planner.hpp"

#include <set>

namespace dsproxy::engine {

asio::awaitable<route_decision> outbound_router::route(const std::string& domain_text) {
    route_decision d;
    const bool literal = !domain_text.empty() && domain_text.front() == '[';
    std::string domain = domain_text;
    if (!literal) {
        std::string error;
        const auto ref = matching::reference_name::parse(domain_text, &error);
        if (!ref) {
            d.refusal = smtp::make_reply(501, "5.1.3 Bad recipient domain: " + error);
            co_return d;
        }
        domain = ref->text();
    }
    d.domain = domain;
    const auto found = rt_.cfg().policies.lookup(literal ? std::string_view() : std::string_view(domain));
    const config::domain_policy& policy = *found.policy;
    d.policy_key = std::string(found.key);
    d.upstream = rt_.outbound_upstream_for(listener_, policy, domain, level_);
    d.upstream.policy_entry = policy_entry_label(found);

    const auto& o = rt_.cfg().outbound;
    routing::route_limits limits;
    limits.mx_port = o.mx_port;
    limits.max_mx_hosts = o.max_mx_hosts;
    limits.max_addresses_per_host = o.max_addresses_per_host;
    limits.order = static_cast<routing::address_order>(o.order);

    std::optional<routing::route_planner> planner;
    if (!policy.route.empty()) {
        std::vector<routing::static_hop> hops;
        for (const auto& hp : policy.route) hops.push_back({hp.host, hp.port});
        planner.emplace(domain, hops, limits);
    } else {
        auto& random = random_;
        planner.emplace(literal ? domain_text : domain, limits, [&random](std::size_t bound) -> std::size_t {
            return bound == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, bound - 1)(random);
        });
    }
    // RFC 7672 §2.2 asks for a host's TLSA records only once its address
    // records are known to be secure; asking alongside them (and ignoring
    // the answer when they are not) saves the round trip (docs/design.md §6.4).
    const config::dane_mode dane_mode = policy.dane;
    net::tlsa_alongside alongside = [dane_mode](const routing::next_hop& hop) {
        return dane::early_tlsa_owner(dane_mode, hop);
    };
    net::tlsa_answers early_tlsa;
    auto planned = co_await net::plan_route(resolver_, std::move(*planner), std::move(alongside), early_tlsa);
    if (planned.failed()) {
        const auto& f = planned.failure();
        d.refusal = smtp::make_reply(f.code, f.enhanced + " " + f.text);
        co_return d;
    }
    d.route_key = routing::route_key(planned.hops());
    d.upstream.hosts.clear();
    // (Named before the loop: g++ 12 frees a temporary of a co_await's
    // operand twice when it comes from a conditional expression.)
    const std::string next_hop_domain = literal ? std::string() : domain;
    std::set<std::string> dane_keys;  // sorted, as route_key is: the hosts' order aside
    d.upstream.dane = policy.dane;
    for (const auto& hop : planned.hops()) {
        upstream_host h;
        h.host = hop.host;
        h.port = hop.port;
        for (const auto& a : hop.addresses) h.addresses.push_back(a.text);
        // RFC 7672 §2.2: each host's TLSA records, only where the DNS that
        // led to it was secure (proxy/dane decides; no query otherwise).
        auto dane = co_await check_host_dane(resolver_, policy.dane, hop, next_hop_domain, early_tlsa);
        h.dane = std::make_shared<const host_dane_check>(std::move(dane));
        if (auto key = requirement_key(h.dane.get()); !key.empty())
            dane_keys.insert(h.host + ":" + std::to_string(h.port) + "=" + key);
        d.upstream.hosts.push_back(std::move(h));
    }
    for (const auto& k : dane_keys) d.dane_key += k + ";";
    d.upstream.name = std::string(routing::to_string(planned.hops().front().origin)) + ":" + domain;
    co_return d;
}

}  // namespace dsproxy::engine
