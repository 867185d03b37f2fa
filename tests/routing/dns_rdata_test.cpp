// dns_rdata_test — RDATA from the network is decoded with bounds checks:
// MX, A/AAAA and TXT values, and every truncated or overlong record is
// refused rather than read past its end; odd name octets come out escaped.
#include "proxy/routing/dns_rdata.hpp"

#include <boost/test/unit_test.hpp>

namespace r = dsproxy::routing;
using bytes = std::vector<unsigned char>;

BOOST_AUTO_TEST_SUITE(dns_rdata)

BOOST_AUTO_TEST_CASE(mx_records) {
    const bytes mx{0, 10, 3, 'm', 'x', '1', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
    const auto rec = r::decode_mx(mx);
    BOOST_TEST_REQUIRE(rec.has_value());
    BOOST_TEST(rec->preference == 10);
    BOOST_TEST(rec->host == "mx1.example");
    const auto null_mx = r::decode_mx(bytes{0, 0, 0});
    BOOST_TEST_REQUIRE(null_mx.has_value());
    BOOST_TEST(null_mx->host.empty());  // RFC 7505 "."
    BOOST_TEST(!r::decode_mx(bytes{0, 10, 3, 'm', 'x'}).has_value());             // label overruns
    BOOST_TEST(!r::decode_mx(bytes{0, 10, 2, 'm', 'x'}).has_value());             // no root label
    BOOST_TEST(!r::decode_mx(bytes{0, 10, 0xc0, 12}).has_value());                // compression pointer
    BOOST_TEST(!r::decode_mx(bytes{0, 10, 0, 0}).has_value());                    // trailing data
    const auto odd = r::decode_mx(bytes{0, 1, 3, 'a', '.', 0x07, 0});
    BOOST_TEST_REQUIRE(odd.has_value());
    BOOST_TEST(odd->host == "a\\046\\007");
}

BOOST_AUTO_TEST_CASE(addresses) {
    BOOST_TEST(r::decode_address(r::ip_family::ipv4, bytes{192, 0, 2, 1})->text == "192.0.2.1");
    bytes v6(16, 0);
    v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = 0xb8, v6[15] = 1;
    BOOST_TEST(r::decode_address(r::ip_family::ipv6, v6)->text == "2001:db8::1");
    BOOST_TEST(!r::decode_address(r::ip_family::ipv4, bytes{192, 0, 2}).has_value());
    BOOST_TEST(!r::decode_address(r::ip_family::ipv6, bytes{192, 0, 2, 1}).has_value());
}

BOOST_AUTO_TEST_CASE(txt_strings_join) {
    BOOST_TEST(*r::decode_txt(bytes{3, 'v', '=', 'S', 4, 'T', 'S', 'v', '1'}) == "v=STSv1");
    BOOST_TEST(*r::decode_txt(bytes{}) == "");
    BOOST_TEST(!r::decode_txt(bytes{5, 'a'}).has_value());
}

BOOST_AUTO_TEST_CASE(dnssec_states) {
    using r::dns_status;
    BOOST_TEST((r::dnssec_of(dns_status::ok, true) == r::dnssec::secure));
    BOOST_TEST((r::dnssec_of(dns_status::nxdomain, true) == r::dnssec::secure));
    BOOST_TEST((r::dnssec_of(dns_status::nodata, false) == r::dnssec::insecure));
    BOOST_TEST((r::dnssec_of(dns_status::bogus, false) == r::dnssec::bogus));
    BOOST_TEST((r::dnssec_of(dns_status::servfail, true) == r::dnssec::failure));
    BOOST_TEST((r::dnssec_of(dns_status::timeout, false) == r::dnssec::failure));
}

BOOST_AUTO_TEST_CASE(families_not_asked_do_not_count) {
    using r::dns_status;
    const r::family_answer v4{dns_status::ok, true, ""};
    const auto only = r::combine_families(v4, std::nullopt, {{r::ip_family::ipv4, "192.0.2.1"}});
    BOOST_TEST((only.status == dns_status::ok));
    BOOST_TEST(only.secure);  // the AAAA that was not asked does not make it insecure
    const auto none = r::combine_families(r::family_answer{dns_status::nxdomain, true, ""}, std::nullopt, {});
    BOOST_TEST((none.status == dns_status::nxdomain));
    const auto mixed = r::combine_families(v4, r::family_answer{dns_status::nodata, false, ""},
                                           {{r::ip_family::ipv4, "192.0.2.1"}});
    BOOST_TEST(!mixed.secure);
}

BOOST_AUTO_TEST_SUITE_END()
