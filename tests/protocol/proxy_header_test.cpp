#define BOOST_TEST_MODULE protocol
// PROXY protocol v1/v2: encode towards a backend, parse from a balancer,
// every malformed shape refused, split input handled.
#include "proxy/protocol/proxy_header.hpp"

#include <boost/test/unit_test.hpp>

namespace p = dsproxy::protocol;

namespace {
std::span<const char> bytes(const std::string& s) { return {s.data(), s.size()}; }
}  // namespace

BOOST_AUTO_TEST_CASE(v2_round_trip_ipv4_with_tls_and_authority) {
    p::proxy_tls_info tls{true, true, true, "TLSv1.3", "TLS_AES_128_GCM_SHA256", "mail.contoso.com"};
    const auto header = p::encode_v2({"192.0.2.10", 40000, "198.51.100.1", 25}, tls, "mx.contoso.com");
    BOOST_TEST_REQUIRE(header.has_value());
    BOOST_TEST(header->substr(0, 12) == std::string("\r\n\r\n\0\r\nQUIT\n", 12));
    BOOST_TEST(static_cast<unsigned char>((*header)[12]) == 0x21);
    BOOST_TEST(static_cast<unsigned char>((*header)[13]) == 0x11);
    BOOST_TEST(header->find("TLSv1.3") != std::string::npos);

    const std::string stream = *header + "EHLO client\r\n";
    const auto r = p::parse(bytes(stream));
    BOOST_TEST_REQUIRE((r.status == p::parse_status::complete));
    BOOST_TEST(r.header.consumed == header->size());
    BOOST_TEST(r.header.endpoints.source_address == "192.0.2.10");
    BOOST_TEST(r.header.endpoints.source_port == 40000);
    BOOST_TEST(r.header.endpoints.destination_address == "198.51.100.1");
    BOOST_TEST(r.header.endpoints.destination_port == 25);
    BOOST_TEST(r.header.authority.value_or("") == "mx.contoso.com");
}

BOOST_AUTO_TEST_CASE(v2_ipv6) {
    const auto header = p::encode_v2({"2001:db8::1", 1, "2001:db8::2", 2525}, {});
    BOOST_TEST_REQUIRE(header.has_value());
    const auto r = p::parse(bytes(*header));
    BOOST_TEST_REQUIRE((r.status == p::parse_status::complete));
    BOOST_TEST(r.header.endpoints.source_address == "2001:db8::1");
    BOOST_TEST(r.header.endpoints.destination_port == 2525);
}

BOOST_AUTO_TEST_CASE(v2_refuses_mixed_or_bad_addresses) {
    BOOST_TEST(!p::encode_v2({"192.0.2.1", 1, "2001:db8::2", 2}, {}).has_value());
    BOOST_TEST(!p::encode_v2({"not-an-ip", 1, "192.0.2.2", 2}, {}).has_value());
}

BOOST_AUTO_TEST_CASE(every_split_of_a_v2_header_needs_more_then_completes) {
    const auto header = *p::encode_v2({"192.0.2.10", 1, "192.0.2.11", 2}, {true, false, false, "TLSv1.2", "X", ""});
    for (std::size_t cut = 0; cut < header.size(); ++cut) {
        BOOST_TEST_CONTEXT("cut at " << cut) {
            BOOST_TEST((p::parse({header.data(), cut}).status == p::parse_status::need_more));
        }
    }
    BOOST_TEST((p::parse(bytes(header)).status == p::parse_status::complete));
}

BOOST_AUTO_TEST_CASE(v2_local_command) {
    std::string local("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16);
    const auto r = p::parse(bytes(local));
    BOOST_TEST_REQUIRE((r.status == p::parse_status::complete));
    BOOST_TEST(r.header.local);
    BOOST_TEST(r.header.consumed == 16u);
}

BOOST_AUTO_TEST_CASE(v2_malformed) {
    const std::string sig("\r\n\r\n\0\r\nQUIT\n", 12);
    // version 1 in the v2 signature
    BOOST_TEST((p::parse(bytes(sig + std::string("\x11\x11\x00\x0c", 4) + std::string(12, 'x'))).status ==
                p::parse_status::invalid));
    // IPv4 family with a short address block
    BOOST_TEST((p::parse(bytes(sig + std::string("\x21\x11\x00\x04", 4) + "abcd")).status ==
                p::parse_status::invalid));
    // a TLV that runs past the header
    BOOST_TEST((p::parse(bytes(sig + std::string("\x21\x11\x00\x0f", 4) + std::string(12, '\1') +
                               std::string("\x02\x00\x09", 3)))
                    .status == p::parse_status::invalid));
    // longer than the limit
    BOOST_TEST((p::parse(bytes(sig + std::string("\x21\x11\xff\xff", 4))).status == p::parse_status::invalid));
    // UDP
    BOOST_TEST((p::parse(bytes(sig + std::string("\x21\x12\x00\x0c", 4) + std::string(12, '\1'))).status ==
                p::parse_status::invalid));
}

BOOST_AUTO_TEST_CASE(v1_tcp4_tcp6_unknown) {
    auto r = p::parse(bytes("PROXY TCP4 192.0.2.1 192.0.2.2 56324 25\r\nEHLO x\r\n"));
    BOOST_TEST_REQUIRE((r.status == p::parse_status::complete));
    BOOST_TEST(r.header.endpoints.source_address == "192.0.2.1");
    BOOST_TEST(r.header.endpoints.source_port == 56324);
    BOOST_TEST(r.header.consumed == 41u);
    r = p::parse(bytes("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"));
    BOOST_TEST_REQUIRE((r.status == p::parse_status::complete));
    BOOST_TEST(r.header.endpoints.destination_address == "2001:db8::2");
    r = p::parse(bytes("PROXY UNKNOWN\r\n"));
    BOOST_TEST_REQUIRE((r.status == p::parse_status::complete));
    BOOST_TEST(r.header.local);
}

BOOST_AUTO_TEST_CASE(v1_malformed_and_partial) {
    BOOST_TEST((p::parse(bytes("PROXY TCP4 192.0.2.1 192.0.2.2 56324")).status == p::parse_status::need_more));
    BOOST_TEST((p::parse(bytes("PRO")).status == p::parse_status::need_more));
    for (const char* bad : {"PROXY TCP4 192.0.2.1 192.0.2.2 56324\r\n", "PROXY TCP4 1.2.3 192.0.2.2 1 2\r\n",
                            "PROXY TCP4 192.0.2.1 192.0.2.2 1 65536\r\n", "PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n",
                            "PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\n", "PROXY TCP6 192.0.2.1 192.0.2.2 1 2\r\n",
                            "PROXY TCP4  192.0.2.1 192.0.2.2 1 2\r\n"}) {
        BOOST_TEST_CONTEXT(bad) { BOOST_TEST((p::parse(bytes(bad)).status == p::parse_status::invalid)); }
    }
    BOOST_TEST((p::parse(bytes("PROXY " + std::string(120, 'x'))).status == p::parse_status::invalid));
}

BOOST_AUTO_TEST_CASE(smtp_without_header_is_refused) {
    const auto r = p::parse(bytes("EHLO client.example\r\n"));
    BOOST_TEST((r.status == p::parse_status::invalid));
    BOOST_TEST(!r.error.empty());
}
