// route_planner — implementation of the RFC 5321 §5.1 rules listed in the header.
#include "proxy/routing/route_planner.hpp"

#include "matching/dns_name.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace dsproxy::routing {

namespace {

// Lower case, one trailing dot removed: how names are compared and logged.
std::string canonical(std::string_view name) {
    std::string out(name);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!out.empty() && out.back() == '.') out.pop_back();
    return out;
}

// "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 §4.1.3) -> the address.
std::optional<host_address> address_literal(std::string_view domain) {
    if (domain.size() < 3 || domain.front() != '[' || domain.back() != ']') return std::nullopt;
    auto inner = domain.substr(1, domain.size() - 2);
    if (inner.size() > 5 && canonical(inner.substr(0, 5)) == "ipv6:") {
        inner.remove_prefix(5);
        if (ip_literal_family(inner) == ip_family::ipv6) return host_address{ip_family::ipv6, canonical(inner)};
        return std::nullopt;
    }
    if (ip_literal_family(inner) == ip_family::ipv4) return host_address{ip_family::ipv4, std::string(inner)};
    return std::nullopt;
}

bool temporary(dns_status s) { return s != dns_status::ok && !is_negative_answer(s); }

next_hop make_hop(std::string host, std::uint16_t port, std::uint16_t preference, hop_origin origin, bool name_secure) {
    next_hop hop;
    hop.host = std::move(host);
    hop.port = port;
    hop.preference = preference;
    hop.origin = origin;
    hop.name_secure = name_secure;
    return hop;
}

}  // namespace

family_set families_for(address_order order) noexcept {
    switch (order) {
    case address_order::ipv4_only: return family_set::ipv4;
    case address_order::ipv6_only: return family_set::ipv6;
    case address_order::ipv6_first:
    case address_order::ipv4_first: break;
    }
    return family_set::both;
}

void order_mx(std::vector<mx_record>& records, const random_source& random) {
    std::stable_sort(records.begin(), records.end(),
                     [](const mx_record& a, const mx_record& b) { return a.preference < b.preference; });
    // Fisher-Yates within each run of equal preference (RFC 5321 §5.1:
    // "randomize them to spread the load across multiple mail exchangers").
    for (std::size_t begin = 0; begin < records.size();) {
        std::size_t end = begin + 1;
        while (end < records.size() && records[end].preference == records[begin].preference) ++end;
        for (std::size_t i = end - begin; i > 1; --i) {
            const std::size_t j = random(i);
            std::swap(records[begin + i - 1], records[begin + (j < i ? j : i - 1)]);
        }
        begin = end;
    }
}

std::vector<host_address> select_addresses(const std::vector<host_address>& addresses,
                                           const route_limits& limits) {
    std::vector<host_address> v4, v6;
    for (const auto& a : addresses) {
        auto& list = a.family == ip_family::ipv4 ? v4 : v6;
        if (std::find(list.begin(), list.end(), a) == list.end()) list.push_back(a);
    }
    if (limits.order == address_order::ipv4_only) v6.clear();
    if (limits.order == address_order::ipv6_only) v4.clear();
    const bool v6_first = limits.order != address_order::ipv4_first;
    auto& first = v6_first ? v6 : v4;
    auto& second = v6_first ? v4 : v6;
    std::vector<host_address> out;
    for (std::size_t i = 0; i < std::max(first.size(), second.size()); ++i) {
        if (i < first.size()) out.push_back(first[i]);
        if (i < second.size()) out.push_back(second[i]);
    }
    if (out.size() > limits.max_addresses_per_host) out.resize(limits.max_addresses_per_host);
    return out;
}

route_planner::route_planner(std::string domain, route_limits limits, random_source random)
    : domain_(canonical(domain)), limits_(limits), random_(std::move(random)) {
    if (auto literal = address_literal(domain_)) {
        next_hop hop = make_hop(literal->text, limits_.mx_port, 0, hop_origin::address_literal, false);
        hop.addresses = select_addresses({*literal}, limits_);
        if (hop.addresses.empty()) {
            fail(550, "5.4.4", "Address literal " + domain_ + " is of an address family we do not use");
            return;
        }
        hops_.push_back(std::move(hop));
        state_ = state::done;
        return;
    }
    if (!matching::is_ldh_host(domain_) || domain_.find('.') == std::string::npos) {
        fail(501, "5.1.3", "Invalid recipient domain " + domain_);
        return;
    }
    state_ = state::awaiting_mx;
}

route_planner::route_planner(std::string domain, const std::vector<static_hop>& route, route_limits limits)
    : domain_(canonical(domain)), limits_(limits) {
    if (route.empty()) {
        fail(451, "4.3.5", "Static route for " + domain_ + " lists no host");
        return;
    }
    std::uint16_t position = 0;
    for (const auto& s : route) {
        // name_secure: our own configuration names the host.
        next_hop hop = make_hop(canonical(s.host), s.port, position++, hop_origin::static_route, true);
        if (auto family = ip_literal_family(hop.host)) {
            hop.addresses = select_addresses({{*family, hop.host}}, limits_);
            if (hop.addresses.empty()) findings_.push_back("static route " + hop.host + " is of an excluded address family");
        }
        hops_.push_back(std::move(hop));
    }
    state_ = state::resolving;
    resolving_ = 0;
    advance_resolution();
}

void route_planner::fail(int code, std::string enhanced, std::string text) {
    failure_ = routing_failure{code, std::move(enhanced), std::move(text)};
    hops_.clear();
    state_ = state::failed;
}

route_step route_planner::next() const {
    switch (state_) {
    case state::awaiting_mx: return {route_step::action::query_mx, domain_};
    case state::resolving:
        return {route_step::action::resolve_host, hops_[resolving_].host, families_for(limits_.order)};
    case state::done:
    case state::failed: break;
    }
    return {route_step::action::done, {}};
}

void route_planner::on_mx(const mx_answer& answer) {
    if (state_ != state::awaiting_mx) return;  // an answer nobody asked for
    switch (answer.status) {
    case dns_status::ok: break;
    case dns_status::nodata:
        // name_secure: the destination itself, no MX indirection to forge.
        hops_.push_back(make_hop(domain_, limits_.mx_port, 0, hop_origin::implicit_mx, true));
        state_ = state::resolving;
        resolving_ = 0;
        advance_resolution();
        return;
    case dns_status::nxdomain:
        fail(550, "5.1.2", "Domain " + domain_ + " does not exist");
        return;
    default:
        fail(451, "4.4.3", "DNS lookup of MX for " + domain_ + " failed (" + std::string(to_string(answer.status)) +
                               "), try again later");
        return;
    }

    // RFC 7505 §3: the null MX is one record with target "."; the resolver
    // hands "." over as "" (dns_rdata) or "." (others), canonical() makes both "".
    if (answer.records.size() == 1 && canonical(answer.records.front().host).empty()) {
        fail(556, "5.1.10", "Domain " + domain_ + " does not accept mail (null MX)");
        return;
    }
    std::vector<mx_record> usable;
    for (const auto& r : answer.records) {
        const std::string host = canonical(r.host);
        if (host.empty()) {
            findings_.push_back("null MX record among other MX records of " + domain_ + " ignored");
        } else if (ip_literal_family(host)) {
            findings_.push_back("numeric MX host " + host + " of " + domain_ + " ignored (RFC 5321 section 5.1)");
        } else if (!matching::is_ldh_host(host)) {
            findings_.push_back("malformed MX host name of " + domain_ + " ignored");
        } else if (auto same = std::find_if(usable.begin(), usable.end(),
                                            [&](const mx_record& u) { return u.host == host; });
                   same != usable.end()) {
            same->preference = std::min(same->preference, r.preference);
        } else {
            usable.push_back({r.preference, host});
        }
    }
    if (usable.empty()) {
        fail(451, "4.4.4", "No usable MX host for " + domain_);
        return;
    }
    order_mx(usable, random_);
    if (usable.size() > limits_.max_mx_hosts) {
        findings_.push_back(std::to_string(usable.size() - limits_.max_mx_hosts) + " MX hosts of " + domain_ +
                            " beyond the limit of " + std::to_string(limits_.max_mx_hosts) + " ignored");
        usable.resize(limits_.max_mx_hosts);
    }
    for (auto& r : usable)
        hops_.push_back(make_hop(std::move(r.host), limits_.mx_port, r.preference, hop_origin::mx, answer.secure));
    state_ = state::resolving;
    resolving_ = 0;
    advance_resolution();
}

void route_planner::on_addresses(const address_answer& answer) {
    if (state_ != state::resolving) return;
    auto& hop = hops_[resolving_];
    hop.addresses = select_addresses(answer.addresses, limits_);
    hop.addresses_secure = answer.secure;
    hop.canonical = canonical(answer.canonical);
    if (hop.canonical == hop.host) hop.canonical.clear();
    if (hop.addresses.empty()) {
        if (temporary(answer.status)) temporary_trouble_ = true;
        findings_.push_back("host " + hop.host + " has no usable address (" +
                            std::string(to_string(answer.status)) + ")");
    }
    ++resolving_;
    advance_resolution();
}

// Skips hops that need no lookup (IP literals, resolved or excluded by
// family); finishes at the end of the list.
void route_planner::advance_resolution() {
    while (resolving_ < hops_.size() &&
           (!hops_[resolving_].addresses.empty() || ip_literal_family(hops_[resolving_].host)))
        ++resolving_;
    if (resolving_ >= hops_.size()) finish_resolution();
}

void route_planner::finish_resolution() {
    const bool implicit = !hops_.empty() && hops_.front().origin == hop_origin::implicit_mx;
    const bool static_route = !hops_.empty() && hops_.front().origin == hop_origin::static_route;
    std::erase_if(hops_, [](const next_hop& h) { return h.addresses.empty(); });
    if (!hops_.empty()) {
        state_ = state::done;
        return;
    }
    if (temporary_trouble_)
        fail(451, "4.4.3", "DNS lookup of the next hop for " + domain_ + " failed, try again later");
    else if (implicit)
        fail(550, "5.4.4", "Domain " + domain_ + " has no MX and no address records");
    else if (static_route)
        fail(451, "4.4.4", "No host of the static route for " + domain_ + " has a usable address");
    else
        fail(451, "4.4.4", "No MX host of " + domain_ + " has a usable address");
}

}  // namespace dsproxy::routing
