// https_url: the collector and policy URLs dsproxy requests.
#include "proxy/sts/https_url.hpp"

#include <boost/test/unit_test.hpp>

namespace s = dsproxy::sts;

BOOST_AUTO_TEST_CASE(urls_that_parse) {
    auto u = s::parse_https_url("https://Reports.Example.NET/v1/tlsrpt?x=1");
    BOOST_REQUIRE(u.has_value());
    BOOST_TEST(u->host == "reports.example.net");
    BOOST_TEST(u->port == 443);
    BOOST_TEST(u->target == "/v1/tlsrpt?x=1");
    BOOST_TEST(s::to_string(*u) == "https://reports.example.net/v1/tlsrpt?x=1");

    u = s::parse_https_url("HTTPS://127.0.0.1:8443");
    BOOST_REQUIRE(u.has_value());
    BOOST_TEST(u->host == "127.0.0.1");
    BOOST_TEST(u->port == 8443);
    BOOST_TEST(u->target == "/");

    u = s::parse_https_url("https://[::1]:9/a");
    BOOST_REQUIRE(u.has_value());
    BOOST_TEST(u->host == "::1");
    BOOST_TEST(s::to_string(*u) == "https://[::1]:9/a");

    u = s::parse_https_url("https://r.example?q");
    BOOST_REQUIRE(u.has_value());
    BOOST_TEST(u->target == "/?q");
}

BOOST_AUTO_TEST_CASE(urls_that_do_not) {
    for (const char* bad : {"http://r.example/", "https://", "https://user:pw@r.example/", "https://r.example/#frag",
                            "https://r.example:0/", "https://r.example:65536/", "https://r.example:/",
                            "https://r.example:44a/", "https://r .example/", "https://r.example/a b",
                            "https://[::1/", "https://[zz]/", "https://*.example/", "https://r.example./",
                            "https://256.1.1.1/", "https://r.example/%zz", "https://r_x.example/"})
        BOOST_TEST(!s::parse_https_url(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(percent_decoding) {
    BOOST_TEST(s::percent_decode("a%40b%2Cc").value() == "a@b,c");
    BOOST_TEST(!s::percent_decode("a%4").has_value());
    BOOST_TEST(!s::percent_decode("a%g0").has_value());
}
