// route_planner — RFC 5321 §5.1 next-hop selection as a sans-I/O state machine.
//
// Owns: turning a recipient domain plus DNS answers (or a static route from
// policy) into an ordered list of next hops with their addresses, or a
// routing failure that is the SMTP reply for the RCPT.
// Must not: do I/O, log, or read the clock. The caller asks next(), performs
// the lookup it names, and feeds the answer back:
//
//   route_planner plan(domain, limits, random);
//   for (auto step = plan.next(); step.what != route_step::action::done; step = plan.next())
//       step.what == route_step::action::query_mx ? plan.on_mx(co_await r.query_mx(step.name))
//                                                 : plan.on_addresses(co_await r.resolve_host(step.name));
//   plan.failed() ? reply(plan.failure()) : connect(plan.hops());
//
// Rules (each has a unit test in tests/routing/):
//   - MX records sorted by preference; equal preferences shuffled with the
//     injected random source; at most limits.max_mx_hosts kept (after the
//     shuffle, so a cap inside a tie still spreads load); a host listed
//     twice is kept once, at its best preference.
//   - No MX records (NODATA): the implicit MX, the domain itself, preference 0.
//   - RFC 7505 null MX: a single MX whose target is "." -> 556 5.1.10. A "."
//     among real MX records is a broken zone: we drop the "." and use the rest.
//   - MX targets that are IP literals or not valid host names are dropped, as
//     Postfix drops them ("numeric domain name in resource data of MX
//     record"); RFC 5321 §5.1 requires a domain name there. CNAME chains are
//     followed by the resolver (RFC 2181 §10.3 forbids MX -> CNAME, but
//     deployed MTAs, Postfix included, accept it, and so do we); an MX query
//     answered with a CNAME to a name without MX is NODATA -> implicit MX of
//     the original domain.
//   - MX NXDOMAIN -> 550 5.1.2 (the domain does not exist: permanent).
//   - MX SERVFAIL / timeout / refused / malformed / bogus (DNSSEC) -> 451 4.4.3:
//     only an answer can be a fact about the domain, never a failure.
//   - Each host's A and AAAA (only A for ipv4-only, only AAAA for
//     ipv6-only): hosts without a usable address are dropped.
//     None left: 451 4.4.3 if any lookup failed temporarily; else, for the
//     implicit MX (the domain has neither MX nor address) 550 5.4.4
//     (RFC 3463: "unable to route", the DNS answered with only an SOA); for
//     MX hosts and static routes 451 4.4.4 (a zone or config mistake that is
//     often fixed within the retry period).
//   - Address literal domains ("[192.0.2.1]", "[IPv6:2001:db8::1]") route to
//     that address on mx_port without DNS; static route entries that are IP
//     literals need no lookup either.
//   - A recipient domain that is not an LDH name with at least one dot gets
//     501 5.1.3: dotless names are not routed on the internet (RFC 7085),
//     and anything else is not a domain at all. Static routes may name any
//     domain.
#pragma once

#include "proxy/routing/dns_answer.hpp"
#include "proxy/routing/next_hop.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace dsproxy::routing {

// Returns a uniformly distributed value in [0, bound), bound >= 1. Injected
// so tests are deterministic; the engine passes a seeded PRNG.
using random_source = std::function<std::size_t(std::size_t bound)>;

struct route_step {
    enum class action { query_mx, resolve_host, done };
    action what = action::done;
    std::string name;  // the name to look up (query_mx, resolve_host)
    // resolve_host: the families to query, from limits.order (an `*-only`
    // order never asks for the other family).
    family_set families = family_set::both;
};

class route_planner {
public:
    // DNS routing for `domain` (A-label form or an address literal).
    route_planner(std::string domain, route_limits limits, random_source random);
    // A static route from policy, tried in the order given.
    route_planner(std::string domain, const std::vector<static_hop>& route, route_limits limits);

    route_step next() const;
    // Feed the answer to the query_mx step.
    void on_mx(const mx_answer& answer);
    // Feed the answer to the resolve_host step (for the host it named).
    void on_addresses(const address_answer& answer);

    bool done() const noexcept { return state_ == state::done || state_ == state::failed; }
    bool failed() const noexcept { return state_ == state::failed; }
    const routing_failure& failure() const noexcept { return failure_; }
    // The hops to try, in order, each with at least one address.
    const std::vector<next_hop>& hops() const noexcept { return hops_; }
    // The hop whose addresses the resolve_host step asks for (its name,
    // port, origin and name_secure are final; the address facts come with
    // the answer), else nullptr. Lets the caller start that host's TLSA
    // lookup alongside (net::plan_route).
    const next_hop* resolving_hop() const noexcept {
        return state_ == state::resolving && resolving_ < hops_.size() ? &hops_[resolving_] : nullptr;
    }
    // One plain sentence per record or host that was dropped, for the log.
    const std::vector<std::string>& findings() const noexcept { return findings_; }
    const std::string& domain() const noexcept { return domain_; }

private:
    enum class state { awaiting_mx, resolving, done, failed };

    void fail(int code, std::string enhanced, std::string text);
    void advance_resolution();
    void finish_resolution();

    std::string domain_;
    route_limits limits_;
    random_source random_;
    state state_ = state::awaiting_mx;
    std::vector<next_hop> hops_;
    std::size_t resolving_ = 0;     // index into hops_ during resolution
    bool temporary_trouble_ = false;
    routing_failure failure_;
    std::vector<std::string> findings_;
};

// Orders and caps one host's addresses per limits (family filter, RFC 8305
// interleaving, duplicates removed, at most max_addresses_per_host).
std::vector<host_address> select_addresses(const std::vector<host_address>& addresses,
                                           const route_limits& limits);

// The families a host lookup asks for under `order`.
family_set families_for(address_order order) noexcept;

// Sorts MX records by preference and shuffles each run of equal preferences
// with `random` (Fisher-Yates), in place.
void order_mx(std::vector<mx_record>& records, const random_source& random);

}  // namespace dsproxy::routing
