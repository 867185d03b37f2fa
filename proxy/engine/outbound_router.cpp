// outbound_router — see outbound_router.hpp.
#include "proxy/engine/outbound_router.hpp"

#include "proxy/dane/tlsa_lookup.hpp"
#include "proxy/engine/dane_check.hpp"
#include "proxy/engine/runtime.hpp"
#include "proxy/log/value.hpp"
#include "proxy/net/route_lookup.hpp"
#include "proxy/routing/route_planner.hpp"

#include <set>

namespace dsproxy::engine {

std::string_view sts_source(const sts_lookup& l) noexcept {
    if (l.fetched) return "fetch";
    return l.outcome.from_cache ? "cache" : "dns";
}

std::string sts_route_fields(const route_decision& d) {
    if (!d.sts) return {};
    std::string out = " sts=" + std::string(sts::to_string(d.sts->outcome.state));
    if (!d.sts_applied.id.empty()) out += " sts_id=" + d.sts_applied.id;
    out += " sts_source=" + std::string(sts_source(*d.sts));
    if (d.sts->outcome.fetch != sts::fetch_error::none)
        out += " sts_fetch=" + std::string(sts::to_string(d.sts->outcome.fetch));
    if (!d.sts_applied.not_listed.empty()) {
        std::string names;
        for (const auto& n : d.sts_applied.not_listed) names += (names.empty() ? "" : ",") + n;
        out += " sts_not_listed=" + log::value(names, 512);
    }
    if (!d.sts->detail.empty()) out += " sts_detail=" + log::value(d.sts->detail, 512);
    return out;
}

void outbound_router::apply_sts(route_decision& d, sts_lookup found) const {
    std::vector<std::string> names;
    std::vector<bool> dane;
    for (const auto& h : d.upstream.hosts) {
        names.push_back(h.host);
        dane.push_back(h.dane && h.dane->action == dane::dane_action::authenticate);
    }
    d.sts_applied = apply_policy(found.outcome, names, dane);
    const auto& a = d.sts_applied;
    auto& u = d.upstream;
    u.sts_looked_up = true;
    u.sts_state = a.state;
    u.sts_id = a.id;
    u.destination = a.requirement;
    if (a.check_certificate) u.sts_trust = &rt_.sts()->trust();
    if (a.requirement == destination_requirement::enforce) {
        // RFC 8461 §5: a failure under an enforced policy is temporary
        // (next_hop_attempt::destination_refused: 451 4.7.5).
        std::vector<upstream_host> listed;
        for (const auto i : a.hosts) listed.push_back(std::move(u.hosts[i]));
        u.hosts = std::move(listed);
        if (u.hosts.empty())
            d.refusal = smtp::make_reply(451, "4.7.5 MTA-STS policy of " + d.domain +
                                                  " lists none of its MX hosts, try again later");
    }
    // Same hosts under another requirement, or another choice of them, are another route.
    d.route_key += " sts=" + std::string(to_string(a.requirement));
    for (const auto i : a.hosts) d.route_key += " " + std::to_string(i);
    d.sts = std::move(found);
}

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
    if (!literal && policy.route.empty() && policy.mta_sts == config::mta_sts_mode::opportunistic && rt_.sts()) {
        auto found = co_await rt_.sts()->lookup(domain, resolver_);
        apply_sts(d, std::move(found));
    }
    co_return d;
}

}  // namespace dsproxy::engine
