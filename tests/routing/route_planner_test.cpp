#define BOOST_TEST_MODULE routing
// route_planner: every RFC 5321 §5.1 / RFC 7505 rule of the header, fed
// DNS answers by hand; the random source is scripted so orders are exact.
#include "proxy/routing/route_planner.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <random>
#include <set>

namespace r = dsproxy::routing;
using r::dns_status;

namespace {

r::address_answer v4(std::string a) {
    return r::combine_families(dns_status::ok, dns_status::nodata, {{r::ip_family::ipv4, std::move(a)}});
}
r::address_answer negative(dns_status s) { return r::combine_families(s, s, {}); }

r::mx_answer mx(std::vector<r::mx_record> records) { return {dns_status::ok, std::move(records)}; }

std::size_t always_zero(std::size_t) { return 0; }
std::size_t always_last(std::size_t bound) { return bound - 1; }

// Drives a planner to the end: MX answer given, addresses from `zone`
// (hosts not in it answer NXDOMAIN). Returns the names looked up in order.
std::vector<std::string> drive(r::route_planner& plan, const std::optional<r::mx_answer>& mx_reply,
                               const std::map<std::string, r::address_answer>& zone) {
    std::vector<std::string> asked;
    for (int guard = 0; guard < 100 && !plan.done(); ++guard) {
        const auto step = plan.next();
        asked.push_back(step.name);
        if (step.what == r::route_step::action::query_mx) {
            BOOST_TEST_REQUIRE(mx_reply.has_value());
            plan.on_mx(*mx_reply);
        } else {
            const auto it = zone.find(step.name);
            plan.on_addresses(it == zone.end() ? negative(dns_status::nxdomain) : it->second);
        }
    }
    BOOST_TEST_REQUIRE(plan.done());
    BOOST_TEST((plan.next().what == r::route_step::action::done));
    return asked;
}

std::vector<std::string> hosts(const r::route_planner& plan) {
    std::vector<std::string> out;
    for (const auto& h : plan.hops()) out.push_back(h.host);
    return out;
}

const std::map<std::string, r::address_answer> zone{
    {"a.example", v4("192.0.2.1")}, {"b.example", v4("192.0.2.2")}, {"c.example", v4("192.0.2.3")},
    {"d.example", v4("192.0.2.4")}, {"example.com", v4("192.0.2.10")},
};

void check_failure(const r::route_planner& plan, int code, const std::string& enhanced) {
    BOOST_TEST(plan.failed());
    BOOST_TEST(plan.failure().code == code);
    BOOST_TEST(plan.failure().enhanced == enhanced);
    BOOST_TEST(plan.hops().empty());
}

}  // namespace

BOOST_AUTO_TEST_CASE(mx_by_preference_with_addresses) {
    r::route_planner plan("example.com", {}, always_zero);
    const auto asked = drive(plan, mx({{20, "b.example"}, {10, "A.Example."}, {30, "c.example"}}), zone);
    BOOST_TEST(asked == (std::vector<std::string>{"example.com", "a.example", "b.example", "c.example"}));
    BOOST_TEST(!plan.failed());
    BOOST_TEST(hosts(plan) == (std::vector<std::string>{"a.example", "b.example", "c.example"}));
    BOOST_TEST(plan.hops()[0].preference == 10);
    BOOST_TEST(plan.hops()[0].port == 25);
    BOOST_TEST((plan.hops()[0].origin == r::hop_origin::mx));
    BOOST_TEST(plan.hops()[1].addresses.front().text == "192.0.2.2");
}

BOOST_AUTO_TEST_CASE(equal_preferences_shuffled_by_the_injected_source) {
    const auto records = mx({{10, "a.example"}, {10, "b.example"}, {10, "c.example"}, {5, "d.example"}});
    r::route_planner zero("example.com", {}, always_zero);
    drive(zero, records, zone);
    // Fisher-Yates with j = 0: [a b c] -> swap(2,0) [c b a] -> swap(1,0) [b c a]
    BOOST_TEST(hosts(zero) == (std::vector<std::string>{"d.example", "b.example", "c.example", "a.example"}));
    r::route_planner last("example.com", {}, always_last);
    drive(last, records, zone);
    BOOST_TEST(hosts(last) == (std::vector<std::string>{"d.example", "a.example", "b.example", "c.example"}));
}

BOOST_AUTO_TEST_CASE(shuffle_reaches_every_order_and_never_crosses_preferences) {
    std::mt19937 prng(12345);
    r::random_source random = [&](std::size_t bound) {
        return std::uniform_int_distribution<std::size_t>(0, bound - 1)(prng);
    };
    std::set<std::vector<std::string>> seen;
    for (int i = 0; i < 300; ++i) {
        std::vector<r::mx_record> rs{{10, "a"}, {10, "b"}, {10, "c"}, {20, "z"}, {1, "first"}};
        r::order_mx(rs, random);
        BOOST_TEST_REQUIRE(rs.front().host == "first");
        BOOST_TEST_REQUIRE(rs.back().host == "z");
        seen.insert({rs[1].host, rs[2].host, rs[3].host});
    }
    BOOST_TEST(seen.size() == 6u);
}

BOOST_AUTO_TEST_CASE(no_mx_records_means_implicit_mx) {
    r::route_limits limits;
    limits.mx_port = 2525;
    r::route_planner plan("Example.COM.", limits, always_zero);
    const auto asked = drive(plan, r::mx_answer{dns_status::nodata, {}}, zone);
    BOOST_TEST(asked == (std::vector<std::string>{"example.com", "example.com"}));
    BOOST_TEST_REQUIRE(plan.hops().size() == 1u);
    BOOST_TEST(plan.hops()[0].host == "example.com");
    BOOST_TEST(plan.hops()[0].port == 2525);
    BOOST_TEST((plan.hops()[0].origin == r::hop_origin::implicit_mx));
}

BOOST_AUTO_TEST_CASE(implicit_mx_without_addresses_is_permanent) {
    r::route_planner plan("nothing.example", {}, always_zero);
    drive(plan, r::mx_answer{dns_status::nodata, {}}, {{"nothing.example", negative(dns_status::nodata)}});
    check_failure(plan, 550, "5.4.4");
    BOOST_TEST(plan.failure().permanent());
}

BOOST_AUTO_TEST_CASE(implicit_mx_with_address_lookup_failure_is_temporary) {
    r::route_planner plan("flaky.example", {}, always_zero);
    drive(plan, r::mx_answer{dns_status::nodata, {}}, {{"flaky.example", negative(dns_status::servfail)}});
    check_failure(plan, 451, "4.4.3");
}

BOOST_AUTO_TEST_CASE(null_mx_is_556) {
    for (const char* target : {"", "."}) {
        r::route_planner plan("nullmx.example", {}, always_zero);
        const auto asked = drive(plan, mx({{0, target}}), zone);
        BOOST_TEST(asked.size() == 1u);  // no address lookups at all
        check_failure(plan, 556, "5.1.10");
    }
}

BOOST_AUTO_TEST_CASE(null_mx_among_real_records_is_ignored) {
    r::route_planner plan("example.com", {}, always_zero);
    drive(plan, mx({{0, "."}, {10, "a.example"}}), zone);
    BOOST_TEST(hosts(plan) == (std::vector<std::string>{"a.example"}));
    BOOST_TEST(plan.findings().size() == 1u);
}

BOOST_AUTO_TEST_CASE(nxdomain_is_permanent) {
    r::route_planner plan("nope.example", {}, always_zero);
    drive(plan, r::mx_answer{dns_status::nxdomain, {}}, zone);
    check_failure(plan, 550, "5.1.2");
}

BOOST_AUTO_TEST_CASE(temporary_mx_failures_are_451_4_4_3) {
    for (auto s : {dns_status::servfail, dns_status::timeout, dns_status::refused, dns_status::bogus,
                   dns_status::malformed, dns_status::cancelled, dns_status::failure}) {
        r::route_planner plan("example.com", {}, always_zero);
        const auto asked = drive(plan, r::mx_answer{s, {}}, zone);
        BOOST_TEST(asked.size() == 1u);
        check_failure(plan, 451, "4.4.3");
        BOOST_TEST(!plan.failure().permanent());
    }
}

BOOST_AUTO_TEST_CASE(numeric_and_malformed_mx_hosts_are_dropped) {
    r::route_planner plan("example.com", {}, always_zero);
    drive(plan, mx({{5, "192.0.2.99"}, {6, "2001:db8::1"}, {7, "bad_name.example"}, {8, "a..example"},
                    {10, "a.example"}}),
          zone);
    BOOST_TEST(hosts(plan) == (std::vector<std::string>{"a.example"}));
    BOOST_TEST(plan.findings().size() == 4u);
}

BOOST_AUTO_TEST_CASE(only_unusable_mx_hosts_is_temporary) {
    r::route_planner plan("example.com", {}, always_zero);
    drive(plan, mx({{5, "192.0.2.99"}, {6, "-bad.example"}}), zone);
    check_failure(plan, 451, "4.4.4");
}

BOOST_AUTO_TEST_CASE(duplicate_mx_host_kept_once_at_best_preference) {
    r::route_planner plan("example.com", {}, always_zero);
    const auto asked = drive(plan, mx({{30, "a.example"}, {20, "b.example"}, {10, "A.example"}}), zone);
    BOOST_TEST(asked.size() == 3u);
    BOOST_TEST(hosts(plan) == (std::vector<std::string>{"a.example", "b.example"}));
    BOOST_TEST(plan.hops()[0].preference == 10);
}

BOOST_AUTO_TEST_CASE(unresolvable_mx_hosts_dropped_rest_kept) {
    r::route_planner plan("example.com", {}, always_zero);
    drive(plan, mx({{10, "gone.example"}, {20, "b.example"}}), zone);
    BOOST_TEST(hosts(plan) == (std::vector<std::string>{"b.example"}));
    BOOST_TEST(plan.findings().size() == 1u);
}

BOOST_AUTO_TEST_CASE(no_mx_host_resolves_is_4xx) {
    r::route_planner plan("example.com", {}, always_zero);
    drive(plan, mx({{10, "gone1.example"}, {20, "gone2.example"}}), zone);
    check_failure(plan, 451, "4.4.4");

    r::route_planner flaky("example.com", {}, always_zero);
    drive(flaky, mx({{10, "gone1.example"}, {20, "slow.example"}}), {{"slow.example", negative(dns_status::timeout)}});
    check_failure(flaky, 451, "4.4.3");
}

BOOST_AUTO_TEST_CASE(max_mx_hosts_exceeded) {
    r::route_limits limits;
    limits.max_mx_hosts = 5;
    std::vector<r::mx_record> records;
    std::map<std::string, r::address_answer> many;
    for (int i = 0; i < 8; ++i) {
        const std::string name = "mx" + std::to_string(i) + ".example";
        records.push_back({static_cast<std::uint16_t>(100 - i), name});
        many[name] = v4("192.0.2." + std::to_string(i + 1));
    }
    r::route_planner plan("example.com", limits, always_zero);
    const auto asked = drive(plan, mx(records), many);
    BOOST_TEST(asked.size() == 1u + 5u);  // only the kept hosts are looked up
    BOOST_TEST(hosts(plan) ==
               (std::vector<std::string>{"mx7.example", "mx6.example", "mx5.example", "mx4.example", "mx3.example"}));
    BOOST_TEST(plan.findings().size() == 1u);
}

BOOST_AUTO_TEST_CASE(address_literal_domains_need_no_dns) {
    r::route_planner v4lit("[192.0.2.7]", {}, always_zero);
    BOOST_TEST(v4lit.done());
    BOOST_TEST_REQUIRE(v4lit.hops().size() == 1u);
    BOOST_TEST((v4lit.hops()[0].origin == r::hop_origin::address_literal));
    BOOST_TEST(v4lit.hops()[0].addresses.front().text == "192.0.2.7");

    r::route_planner v6lit("[IPv6:2001:DB8::7]", {}, always_zero);
    BOOST_TEST_REQUIRE(v6lit.hops().size() == 1u);
    BOOST_TEST(v6lit.hops()[0].addresses.front().text == "2001:db8::7");
    BOOST_TEST((v6lit.hops()[0].addresses.front().family == r::ip_family::ipv6));

    for (const char* bad : {"[2001:db8::7]", "[999.0.0.1]", "[IPv6:192.0.2.1]", "[]", "bad_domain.example",
                            "localhost", "a..example"}) {
        r::route_planner plan(bad, {}, always_zero);
        check_failure(plan, 501, "5.1.3");
    }
}

BOOST_AUTO_TEST_CASE(static_route_in_given_order) {
    std::vector<r::static_hop> route{{"relay2.example", 2525}, {"192.0.2.50", 25}, {"relay1.example", 26}};
    r::route_planner plan("partner.example", route, {});
    const auto asked = drive(plan, std::nullopt,
                             {{"relay1.example", v4("192.0.2.1")}, {"relay2.example", v4("192.0.2.2")}});
    BOOST_TEST(asked == (std::vector<std::string>{"relay2.example", "relay1.example"}));  // no lookup of the literal
    BOOST_TEST(hosts(plan) == (std::vector<std::string>{"relay2.example", "192.0.2.50", "relay1.example"}));
    BOOST_TEST(plan.hops()[0].port == 2525);
    BOOST_TEST(plan.hops()[2].port == 26);
    BOOST_TEST((plan.hops()[1].origin == r::hop_origin::static_route));
}

BOOST_AUTO_TEST_CASE(static_route_failures) {
    r::route_planner empty("partner.example", std::vector<r::static_hop>{}, {});
    check_failure(empty, 451, "4.3.5");

    r::route_planner gone("partner.example", std::vector<r::static_hop>{{"gone.example", 25}}, {});
    drive(gone, std::nullopt, {});
    check_failure(gone, 451, "4.4.4");

    r::route_limits v4only;
    v4only.order = r::address_order::ipv4_only;
    r::route_planner excluded("partner.example", std::vector<r::static_hop>{{"2001:db8::5", 25}}, v4only);
    drive(excluded, std::nullopt, {});
    check_failure(excluded, 451, "4.4.4");
}

BOOST_AUTO_TEST_CASE(answers_out_of_turn_are_ignored) {
    r::route_planner plan("example.com", {}, always_zero);
    plan.on_addresses(v4("192.0.2.1"));
    BOOST_TEST((plan.next().what == r::route_step::action::query_mx));
    drive(plan, mx({{10, "a.example"}}), zone);
    plan.on_mx(mx({{10, "b.example"}}));
    BOOST_TEST(hosts(plan) == (std::vector<std::string>{"a.example"}));
}

// Issue 15: an `*-only` order asks only for its own family's records.
BOOST_AUTO_TEST_CASE(only_orders_ask_one_family) {
    for (const auto& [order, want] : {std::pair{r::address_order::ipv4_only, r::family_set::ipv4},
                                      std::pair{r::address_order::ipv6_only, r::family_set::ipv6},
                                      std::pair{r::address_order::ipv6_first, r::family_set::both},
                                      std::pair{r::address_order::ipv4_first, r::family_set::both}}) {
        r::route_limits limits;
        limits.order = order;
        r::route_planner plan("example.com", limits, always_zero);
        plan.on_mx(mx({{10, "a.example"}}));
        const auto step = plan.next();
        BOOST_TEST((step.what == r::route_step::action::resolve_host));
        BOOST_TEST((step.families == want));
    }
}

// RFC 7672 §2.2: the hops carry what DANE needs to know about their DNS.
BOOST_AUTO_TEST_CASE(hops_carry_their_dnssec_facts) {
    r::route_planner plan("example.com", {}, always_zero);
    auto secure_mx = mx({{10, "a.example"}, {20, "b.example"}});
    secure_mx.secure = true;
    auto a = v4("192.0.2.1");
    a.secure = true;
    a.canonical = "real.example.";
    drive(plan, secure_mx, {{"a.example", a}, {"b.example", v4("192.0.2.2")}});
    BOOST_TEST_REQUIRE(plan.hops().size() == 2u);
    BOOST_TEST(plan.hops()[0].name_secure);
    BOOST_TEST(plan.hops()[0].addresses_secure);
    BOOST_TEST(plan.hops()[0].canonical == "real.example");
    BOOST_TEST(plan.hops()[1].name_secure);
    BOOST_TEST(!plan.hops()[1].addresses_secure);
    BOOST_TEST(plan.hops()[1].canonical.empty());

    r::route_planner insecure("example.com", {}, always_zero);
    drive(insecure, mx({{10, "a.example"}}), {{"a.example", a}});
    BOOST_TEST(!insecure.hops()[0].name_secure);  // an insecure MX RRset: no DANE (RFC 7672 §2.2.1)

    r::route_planner implicit("example.com", {}, always_zero);
    drive(implicit, r::mx_answer{dns_status::nodata, {}}, {{"example.com", a}});
    BOOST_TEST(implicit.hops()[0].name_secure);  // the destination itself (RFC 7672 §2.2.2)
}

// The hop a resolve_host step is for, before its answer: what a caller needs
// to start that host's TLSA lookup alongside (net::plan_route).
BOOST_AUTO_TEST_CASE(resolving_hop_names_the_host_being_resolved) {
    r::route_planner plan("example.com", {}, always_zero);
    BOOST_TEST(plan.resolving_hop() == nullptr);  // the MX query first
    auto secure_mx = mx({{10, "a.example"}, {20, "b.example"}});
    secure_mx.secure = true;
    plan.on_mx(secure_mx);
    for (const std::string host : {"a.example", "b.example"}) {
        const auto step = plan.next();
        BOOST_TEST_REQUIRE(plan.resolving_hop() != nullptr);
        BOOST_TEST(plan.resolving_hop()->host == step.name);
        BOOST_TEST(plan.resolving_hop()->host == host);
        BOOST_TEST(plan.resolving_hop()->port == 25);
        BOOST_TEST(plan.resolving_hop()->name_secure);
        BOOST_TEST(plan.resolving_hop()->addresses.empty());  // the answer is still to come
        plan.on_addresses(zone.at(host));
    }
    BOOST_TEST(plan.done());
    BOOST_TEST(plan.resolving_hop() == nullptr);

    r::route_planner literal("[192.0.2.7]", {}, always_zero);
    BOOST_TEST(literal.resolving_hop() == nullptr);  // nothing to resolve
}
