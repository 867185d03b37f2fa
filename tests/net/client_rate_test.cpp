// client_rate_test — the per-client rate limits (docs/design.md §2): a burst
// of N per minute, then one per 60/N s; networks by prefix; reloads; the
// bound on what is tracked. The clock is the test's.
#include "proxy/net/client_rate.hpp"

#include <boost/test/unit_test.hpp>

using dsproxy::net::client_rate;
using namespace std::chrono_literals;

namespace {

const auto t0 = client_rate::clock::time_point{} + 1000h;
boost::asio::ip::address ip(const char* text) { return boost::asio::ip::make_address(text); }

}  // namespace

BOOST_AUTO_TEST_CASE(a_burst_of_the_limit_then_one_per_spacing) {
    client_rate r({.per_minute = 6});
    for (int i = 0; i < 6; ++i) BOOST_TEST(r.try_count(ip("192.0.2.1"), t0));
    BOOST_TEST(!r.try_count(ip("192.0.2.1"), t0));
    BOOST_TEST(!r.try_count(ip("192.0.2.1"), t0 + 9s));  // spacing is 10 s
    BOOST_TEST(r.try_count(ip("192.0.2.1"), t0 + 10s));
    BOOST_TEST(!r.try_count(ip("192.0.2.1"), t0 + 11s));
    // A refused event is not counted: the client is not pushed further back.
    BOOST_TEST(r.try_count(ip("192.0.2.1"), t0 + 20s));
    // Another client is not affected.
    BOOST_TEST(r.try_count(ip("192.0.2.2"), t0 + 11s));
}

BOOST_AUTO_TEST_CASE(a_client_that_keeps_to_the_limit_is_never_refused) {
    client_rate r({.per_minute = 60});
    for (int i = 0; i < 600; ++i) BOOST_TEST_REQUIRE(r.try_count(ip("2001:db8::1"), t0 + i * 1s));
    // ...and after a quiet minute it has its whole burst again.
    auto later = t0 + 600s + 60s;
    for (int i = 0; i < 60; ++i) BOOST_TEST_REQUIRE(r.try_count(ip("2001:db8::1"), later));
    BOOST_TEST(!r.try_count(ip("2001:db8::1"), later));
}

BOOST_AUTO_TEST_CASE(zero_is_no_limit) {
    client_rate r({.per_minute = 0});
    for (int i = 0; i < 10000; ++i) BOOST_TEST_REQUIRE(r.try_count(ip("192.0.2.1"), t0));
    BOOST_TEST(r.tracked() == 0u);
}

BOOST_AUTO_TEST_CASE(clients_of_one_network_share_its_limit) {
    client_rate r({.per_minute = 2, .ipv4_prefix = 24, .ipv6_prefix = 64});
    BOOST_TEST(r.try_count(ip("192.0.2.1"), t0));
    BOOST_TEST(r.try_count(ip("192.0.2.200"), t0));
    BOOST_TEST(!r.try_count(ip("192.0.2.9"), t0));
    BOOST_TEST(r.try_count(ip("192.0.3.1"), t0));
    // IPv6: the /64 is one client; an IPv4-mapped address is its IPv4 network.
    BOOST_TEST(r.try_count(ip("2001:db8:1:2::1"), t0));
    BOOST_TEST(r.try_count(ip("2001:db8:1:2:ffff::9"), t0));
    BOOST_TEST(!r.try_count(ip("2001:db8:1:2::77"), t0));
    BOOST_TEST(r.try_count(ip("2001:db8:1:3::1"), t0));
    BOOST_TEST(!r.try_count(ip("::ffff:192.0.2.5"), t0));
    BOOST_TEST(client_rate::network_of(ip("192.0.2.77"), r.current()) == "192.0.2.0/24");
    BOOST_TEST(client_rate::network_of(ip("2001:db8:1:2:ffff::9"), r.current()) == "2001:db8:1:2::/64");
    BOOST_TEST(client_rate::network_of(ip("192.0.2.77"), {.per_minute = 1, .ipv4_prefix = 20}) == "192.0.0.0/20");
    BOOST_TEST(client_rate::network_of(ip("2001:db8::1"), {.per_minute = 1, .ipv6_prefix = 128}) == "2001:db8::1/128");
}

BOOST_AUTO_TEST_CASE(a_reload_with_other_settings_starts_counting_again) {
    client_rate r({.per_minute = 1});
    BOOST_TEST(r.try_count(ip("192.0.2.1"), t0));
    BOOST_TEST(!r.try_count(ip("192.0.2.1"), t0));
    r.set({.per_minute = 1});  // the same: nothing forgotten
    BOOST_TEST(!r.try_count(ip("192.0.2.1"), t0));
    r.set({.per_minute = 2});
    BOOST_TEST(r.try_count(ip("192.0.2.1"), t0));
    BOOST_TEST(r.try_count(ip("192.0.2.1"), t0));
    BOOST_TEST(!r.try_count(ip("192.0.2.1"), t0));
}

BOOST_AUTO_TEST_CASE(quiet_clients_are_forgotten_and_the_table_is_bounded) {
    client_rate r({.per_minute = 1}, 100);
    for (unsigned i = 0; i < 100; ++i)
        BOOST_TEST_REQUIRE(r.try_count(boost::asio::ip::address_v4(0xC0000200u + i), t0));
    BOOST_TEST(r.tracked() == 100u);
    // Full: a new network is not limited rather than anyone's entry dropped.
    BOOST_TEST(r.try_count(ip("198.51.100.1"), t0));
    BOOST_TEST(r.try_count(ip("198.51.100.1"), t0));
    BOOST_TEST(!r.try_count(boost::asio::ip::address_v4(0xC0000200u), t0));
    // A minute on, everyone has a full burst again and the table empties.
    BOOST_TEST(r.try_count(ip("198.51.100.1"), t0 + 61s));
    BOOST_TEST(r.tracked() == 1u);
}
