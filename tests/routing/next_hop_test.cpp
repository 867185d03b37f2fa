// next_hop and address selection: static route syntax, the A+AAAA
// combination rule, family order and the per-host address cap.
#include "proxy/routing/route_planner.hpp"

#include <boost/test/unit_test.hpp>

namespace r = dsproxy::routing;
using r::dns_status;
using r::ip_family;

namespace {

std::vector<std::string> texts(const std::vector<r::host_address>& as) {
    std::vector<std::string> out;
    for (const auto& a : as) out.push_back(a.text);
    return out;
}

const std::vector<r::host_address> mixed{
    {ip_family::ipv4, "192.0.2.1"}, {ip_family::ipv4, "192.0.2.2"}, {ip_family::ipv4, "192.0.2.3"},
    {ip_family::ipv6, "2001:db8::1"}, {ip_family::ipv6, "2001:db8::2"}, {ip_family::ipv4, "192.0.2.1"},
};

r::route_limits with_order(r::address_order o, std::size_t cap = 10) {
    r::route_limits l;
    l.order = o;
    l.max_addresses_per_host = cap;
    return l;
}

}  // namespace

BOOST_AUTO_TEST_CASE(address_order_interleaves_families) {
    BOOST_TEST(texts(r::select_addresses(mixed, with_order(r::address_order::ipv6_first))) ==
               (std::vector<std::string>{"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "192.0.2.3"}));
    BOOST_TEST(texts(r::select_addresses(mixed, with_order(r::address_order::ipv4_first))) ==
               (std::vector<std::string>{"192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2", "192.0.2.3"}));
    BOOST_TEST(texts(r::select_addresses(mixed, with_order(r::address_order::ipv4_only))) ==
               (std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3"}));
    BOOST_TEST(texts(r::select_addresses(mixed, with_order(r::address_order::ipv6_only))) ==
               (std::vector<std::string>{"2001:db8::1", "2001:db8::2"}));
}

BOOST_AUTO_TEST_CASE(max_addresses_per_host_exceeded) {
    // Default cap 4: six addresses (one duplicate) come back as four, both
    // families represented.
    const auto picked = r::select_addresses(mixed, r::route_limits{});
    BOOST_TEST(texts(picked) == (std::vector<std::string>{"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2"}));
    BOOST_TEST(r::select_addresses(mixed, with_order(r::address_order::ipv4_first, 1)).size() == 1u);
}

BOOST_AUTO_TEST_CASE(family_filter_can_leave_a_host_without_address) {
    r::route_limits limits = with_order(r::address_order::ipv4_only);
    r::route_planner plan("example.com", limits, [](std::size_t) { return std::size_t{0}; });
    plan.on_mx({dns_status::ok, {{10, "v6only.example"}}});
    plan.on_addresses(r::combine_families(dns_status::nodata, dns_status::ok, {{ip_family::ipv6, "2001:db8::9"}}));
    BOOST_TEST(plan.failed());
    BOOST_TEST(plan.failure().code == 451);
    BOOST_TEST(plan.failure().enhanced == "4.4.4");
}

BOOST_AUTO_TEST_CASE(combine_families_rules) {
    const std::vector<r::host_address> one{{ip_family::ipv4, "192.0.2.1"}};
    BOOST_TEST((r::combine_families(dns_status::ok, dns_status::servfail, one).status == dns_status::ok));
    BOOST_TEST((r::combine_families(dns_status::nodata, dns_status::timeout, {}).status == dns_status::timeout));
    BOOST_TEST((r::combine_families(dns_status::servfail, dns_status::nxdomain, {}).status == dns_status::servfail));
    BOOST_TEST((r::combine_families(dns_status::nxdomain, dns_status::nxdomain, {}).status == dns_status::nxdomain));
    BOOST_TEST((r::combine_families(dns_status::nxdomain, dns_status::nodata, {}).status == dns_status::nodata));
    BOOST_TEST((r::combine_families(dns_status::ok, dns_status::ok, {}).status == dns_status::nodata));
    const auto a = r::combine_families(dns_status::ok, dns_status::nodata, one);
    BOOST_TEST((a.ipv4_status == dns_status::ok));
    BOOST_TEST((a.ipv6_status == dns_status::nodata));
}

BOOST_AUTO_TEST_CASE(static_hop_syntax) {
    std::string error;
    auto h = r::parse_static_hop("Relay.Example.:2525", 25, error);
    BOOST_TEST_REQUIRE(h.has_value());
    BOOST_TEST(h->host == "relay.example");
    BOOST_TEST(h->port == 2525);
    BOOST_TEST((r::parse_static_hop("relay.example", 587, error) == r::static_hop{"relay.example", 587}));
    BOOST_TEST((r::parse_static_hop("[192.0.2.1]:26", 25, error) == r::static_hop{"192.0.2.1", 26}));
    BOOST_TEST((r::parse_static_hop("192.0.2.1", 25, error) == r::static_hop{"192.0.2.1", 25}));
    BOOST_TEST((r::parse_static_hop("[2001:DB8::1]:2525", 25, error) == r::static_hop{"2001:db8::1", 2525}));
    BOOST_TEST((r::parse_static_hop("[::1]", 25, error) == r::static_hop{"::1", 25}));
    for (const char* bad : {"", ":25", "relay.example:", "relay.example:0", "relay.example:65536",
                            "relay.example:25x", "2001:db8::1", "[2001:db8::1", "[relay.example]:25",
                            "[::1]x", "[::1]:", "bad_host.example", "-relay.example"}) {
        error.clear();
        BOOST_TEST(!r::parse_static_hop(bad, 25, error).has_value(), bad);
        BOOST_TEST(!error.empty(), bad);
    }
}

BOOST_AUTO_TEST_CASE(route_key_ignores_order_and_addresses) {
    std::vector<r::next_hop> a{{"b.example", 25, 10, r::hop_origin::mx, {}, false, false, {}}, {"a.example", 25, 10, r::hop_origin::mx, {}, false, false, {}}};
    std::vector<r::next_hop> b{{"a.example", 25, 10, r::hop_origin::mx, {}, false, false, {}}, {"b.example", 25, 10, r::hop_origin::mx, {}, false, false, {}}};
    std::vector<r::next_hop> c{{"a.example", 2525, 10, r::hop_origin::mx, {}, false, false, {}}, {"b.example", 25, 10, r::hop_origin::mx, {}, false, false, {}}};
    std::vector<r::next_hop> d{{"2001:db8::1", 25, 0, r::hop_origin::static_route, {}, false, false, {}}};
    BOOST_TEST(r::route_key(a) == r::route_key(b));
    BOOST_TEST(r::route_key(a) != r::route_key(c));
    BOOST_TEST(r::route_key(a) == "a.example:25 b.example:25");
    BOOST_TEST(r::route_key(d) == "[2001:db8::1]:25");
}

BOOST_AUTO_TEST_CASE(address_order_names_round_trip) {
    for (auto o : {r::address_order::ipv6_first, r::address_order::ipv4_first, r::address_order::ipv4_only,
                   r::address_order::ipv6_only})
        BOOST_TEST((r::parse_address_order(r::to_string(o)) == o));
    BOOST_TEST(!r::parse_address_order("any").has_value());
}
