// Addresses: listen addresses (IP literals, IPv6 in brackets), next hops
// (names allowed, port 25 by default), CIDR blocks and their membership test.
#include "config/address.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::config;

namespace {
const host_port_rules listen_rules{false, std::nullopt};
const host_port_rules hop_rules{true, std::uint16_t{25}};
}  // namespace

BOOST_AUTO_TEST_SUITE(addresses)

BOOST_AUTO_TEST_CASE(listen_addresses_v4_and_v6) {
    const auto v4 = parse_host_port("0.0.0.0:25", listen_rules);
    BOOST_TEST_REQUIRE(v4.has_value());
    BOOST_TEST(v4->host == "0.0.0.0");
    BOOST_TEST(v4->port == 25);
    BOOST_TEST((v4->ip->af == ip_address::family::v4));
    const auto v6 = parse_host_port("[::1]:2525", listen_rules);
    BOOST_TEST_REQUIRE(v6.has_value());
    BOOST_TEST(v6->host == "::1");
    BOOST_TEST(v6->port == 2525);
    BOOST_TEST(to_string(*v6) == "[::1]:2525");
    BOOST_TEST(to_string(*parse_host_port("[2001:DB8:0::1]:25", listen_rules)) == "[2001:db8::1]:25");
}

BOOST_AUTO_TEST_CASE(invalid_listen_addresses) {
    std::string error;
    BOOST_TEST(!parse_host_port("::1:2525", listen_rules, &error));
    BOOST_TEST(error.find("brackets") != std::string::npos);
    BOOST_TEST(!parse_host_port("127.0.0.1", listen_rules, &error));
    BOOST_TEST(error.find("port is required") != std::string::npos);
    BOOST_TEST(!parse_host_port("127.0.0.1:0", listen_rules, &error));
    BOOST_TEST(!parse_host_port("127.0.0.1:65536", listen_rules, &error));
    BOOST_TEST(error.find("1 to 65535") != std::string::npos);
    BOOST_TEST(!parse_host_port("localhost:25", listen_rules, &error));  // listen on IP literals only
    BOOST_TEST(error.find("IP address") != std::string::npos);
    BOOST_TEST(!parse_host_port("[127.0.0.1]:25", listen_rules, &error));
    BOOST_TEST(!parse_host_port("[::1:25", listen_rules, &error));
    BOOST_TEST(!parse_host_port("[::1]25", listen_rules, &error));
    BOOST_TEST(!parse_host_port("256.1.1.1:25", listen_rules, &error));
    BOOST_TEST(!parse_host_port("", listen_rules, &error));
}

BOOST_AUTO_TEST_CASE(next_hops_take_names_and_default_to_port_25) {
    const auto named = parse_host_port("MX.Contoso.COM.", hop_rules);
    BOOST_TEST_REQUIRE(named.has_value());
    BOOST_TEST(named->host == "mx.contoso.com");
    BOOST_TEST(named->port == 25);
    BOOST_TEST(!named->ip.has_value());
    BOOST_TEST(parse_host_port("smtp.bücher.de:587", hop_rules)->host == "smtp.xn--bcher-kva.de");
    BOOST_TEST(to_string(*parse_host_port("[2001:db8::25]", hop_rules)) == "[2001:db8::25]:25");
    std::string error;
    BOOST_TEST(!parse_host_port("mx..contoso.com:25", hop_rules, &error));
    BOOST_TEST(!parse_host_port("*.contoso.com:25", hop_rules, &error));
    BOOST_TEST(!parse_host_port("mx.contoso.com:smtp", hop_rules, &error));
}

BOOST_AUTO_TEST_CASE(cidr_blocks_v4_and_v6) {
    const auto ten = parse_cidr("10.0.0.0/8");
    BOOST_TEST_REQUIRE(ten.has_value());
    BOOST_TEST(ten->prefix == 8u);
    BOOST_TEST(ten->contains(*parse_ip("10.200.3.4")));
    BOOST_TEST(!ten->contains(*parse_ip("11.0.0.1")));
    BOOST_TEST(!ten->contains(*parse_ip("::ffff:10.0.0.1")));  // another family never matches

    const auto host = parse_cidr("192.0.2.1");
    BOOST_TEST(host->prefix == 32u);
    BOOST_TEST(host->contains(*parse_ip("192.0.2.1")));
    BOOST_TEST(!host->contains(*parse_ip("192.0.2.2")));

    const auto v6 = parse_cidr("2001:db8::/32");
    BOOST_TEST(v6->contains(*parse_ip("2001:db8:ffff::1")));
    BOOST_TEST(!v6->contains(*parse_ip("2001:db9::1")));
    BOOST_TEST(parse_cidr("::1")->prefix == 128u);
    BOOST_TEST(parse_cidr("0.0.0.0/0")->contains(*parse_ip("203.0.113.9")));
    BOOST_TEST(parse_cidr("10.0.0.0/12")->contains(*parse_ip("10.15.255.255")));
    BOOST_TEST(!parse_cidr("10.0.0.0/12")->contains(*parse_ip("10.16.0.0")));
    BOOST_TEST(to_string(*v6) == "2001:db8::/32");
}

BOOST_AUTO_TEST_CASE(invalid_cidr_blocks) {
    std::string error;
    BOOST_TEST(!parse_cidr("10.1.2.3/8", &error));
    BOOST_TEST(error.find("did you mean `10.0.0.0/8`") != std::string::npos);
    BOOST_TEST(!parse_cidr("10.0.0.0/33", &error));
    BOOST_TEST(error.find("0 to 32") != std::string::npos);
    BOOST_TEST(!parse_cidr("::/129", &error));
    BOOST_TEST(!parse_cidr("10.0.0.0/", &error));
    BOOST_TEST(!parse_cidr("10.0.0/8", &error));
    BOOST_TEST(!parse_cidr("example.com/8", &error));
    BOOST_TEST(error.find("expected a network") != std::string::npos);
    BOOST_TEST(!parse_cidr("10.0.0.0/-1", &error));
}

BOOST_AUTO_TEST_SUITE_END()
