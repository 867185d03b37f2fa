// mx_pattern: RFC 8461 §4.1 — a wildcard stands for exactly one leftmost label.
#include "proxy/sts/mx_pattern.hpp"

#include <boost/test/unit_test.hpp>

namespace s = dsproxy::sts;

BOOST_AUTO_TEST_CASE(exact_patterns_match_case_insensitively) {
    const auto p = s::mx_pattern::parse("Mail.Example.COM");
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(p->text() == "mail.example.com");
    BOOST_TEST(!p->wildcard());
    BOOST_TEST(p->matches("mail.example.com"));
    BOOST_TEST(p->matches("MAIL.EXAMPLE.COM."));
    BOOST_TEST(!p->matches("x.mail.example.com"));
    BOOST_TEST(!p->matches("example.com"));
}

BOOST_AUTO_TEST_CASE(wildcard_covers_one_label) {
    const auto p = s::mx_pattern::parse("*.example.net");
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(p->wildcard());
    BOOST_TEST(p->matches("mx1.example.net"));
    BOOST_TEST(p->matches("MX1.example.net."));
    BOOST_TEST(!p->matches("example.net"));
    BOOST_TEST(!p->matches("a.b.example.net"));
    BOOST_TEST(!p->matches("mx1.example.net.evil"));
    BOOST_TEST(!p->matches("mx1example.net"));
    BOOST_TEST(!p->matches("*.example.net"));  // an MX host is never a pattern
}

BOOST_AUTO_TEST_CASE(bad_patterns_and_hosts) {
    for (const char* bad : {"", "*", "*.", ".example.com", "example.com.", "m*.example.com", "*.*.example.com",
                            "a..example.com", "ex ample.com", "bücher.de", "a_b.example.com",
                            // A-labels that are not valid IDNA2008 could never match an MX host
                            // (fuzz/corpus/sts_policy/crash-invalid-a-label): refused, not kept.
                            "xn--ce", "mx.xn--ce.example", "*.xn--ce.example"})
        BOOST_TEST(!s::mx_pattern::parse(bad).has_value(), bad);
    const auto p = s::mx_pattern::parse("mx.example.com");
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(!p->matches(""));
    BOOST_TEST(!p->matches("mx.example.com\xc3\xa9"));
    BOOST_TEST(!p->matches(std::string("mx.example.com\0", 15)));
    // A wildcard needs two labels after it (matching/'s RFC 6125 host rule).
    const auto tld = s::mx_pattern::parse("*.net");
    BOOST_REQUIRE(tld.has_value());
    BOOST_TEST(!tld->matches("example.net"));
}
