// What the matcher reports besides the verdict: the winning presented name,
// the names it ignored and why, and the 1,024-name cap (docs/design.md §5).
#include "matching/name_matcher.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace m = dsproxy::matching;

namespace {

m::reference_name ref(const std::string& text) {
    auto r = m::reference_name::parse(text);
    BOOST_TEST_REQUIRE(r.has_value());
    return *r;
}

m::match_result domain_match(const std::string& d, std::vector<std::string> sans, std::vector<std::string> cns = {},
                             m::cn_fallback f = m::cn_fallback::no_san) {
    return m::match(ref(d), {std::move(sans), std::move(cns)}, {m::rule_set::domain, f});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(name_rules)

BOOST_AUTO_TEST_CASE(matched_name_is_reported_as_presented) {
    const auto r = domain_match("contoso.com", {"fabrikam.com", "MAIL.Contoso.COM."});
    BOOST_TEST(r.matched);
    BOOST_TEST(r.how == m::rule::one_node_deep);
    BOOST_TEST(r.matched_name == "MAIL.Contoso.COM.");
}

BOOST_AUTO_TEST_CASE(every_name_gets_a_verdict_in_order) {
    const auto r = domain_match("contoso.com", {"mail.contoso.com", "*.contoso.com", "fabrikam.com"});
    BOOST_TEST_REQUIRE(r.names.size() == 3u);
    BOOST_TEST((r.names[0].matched == m::rule::one_node_deep));
    BOOST_TEST((r.names[1].matched == m::rule::wildcard));
    BOOST_TEST(!r.names[2].matched.has_value());
    BOOST_TEST(!r.names[2].ignored.has_value());
    BOOST_TEST(r.how == m::rule::wildcard);
    BOOST_TEST(r.matched_name == "*.contoso.com");
}

BOOST_AUTO_TEST_CASE(ignored_names_carry_their_reason) {
    const std::string nul("contoso.com\0.evil.com", 21);
    const std::string too_long = std::string(250, 'a') + ".com";
    const auto r = domain_match("contoso.com", {nul, "maïl.contoso.com", too_long, "m*.contoso.com", "a..b"});
    BOOST_TEST(!r.matched);
    BOOST_TEST_REQUIRE(r.ignored().size() == 5u);
    BOOST_TEST((*r.names[0].ignored == m::ignore_reason::embedded_nul));
    BOOST_TEST((*r.names[1].ignored == m::ignore_reason::non_ascii));
    BOOST_TEST((*r.names[2].ignored == m::ignore_reason::too_long));
    BOOST_TEST((*r.names[3].ignored == m::ignore_reason::invalid_ldh));
    BOOST_TEST((*r.names[4].ignored == m::ignore_reason::invalid_ldh));
}

BOOST_AUTO_TEST_CASE(cns_are_not_considered_when_a_dns_san_exists) {
    const auto r = domain_match("contoso.com", {"fabrikam.com"}, {"contoso.com"});
    BOOST_TEST(!r.matched);
    BOOST_TEST(r.names.size() == 1u);  // the CN was not even considered
}

BOOST_AUTO_TEST_CASE(cns_are_marked_as_cn_source) {
    const auto r = domain_match("contoso.com", {}, {"Contoso Corp", "contoso.com"});
    BOOST_TEST(r.matched);
    BOOST_TEST_REQUIRE(r.names.size() == 2u);
    BOOST_TEST((r.names[0].source == m::name_source::cn));
    BOOST_TEST((*r.names[0].ignored == m::ignore_reason::invalid_ldh));
}

BOOST_AUTO_TEST_CASE(names_beyond_the_cap_are_ignored) {
    std::vector<std::string> sans(m::max_presented_names, "fabrikam.com");
    sans.push_back("contoso.com");  // name number 1,025
    const auto r = domain_match("contoso.com", sans);
    BOOST_TEST(!r.matched);
    BOOST_TEST_REQUIRE(r.names.size() == m::max_presented_names + 1);
    BOOST_TEST((*r.names.back().ignored == m::ignore_reason::over_cap));

    sans.erase(sans.begin());  // now name number 1,024: still considered
    BOOST_TEST(domain_match("contoso.com", sans).matched);
}

BOOST_AUTO_TEST_CASE(cap_counts_sans_and_cns_together) {
    std::vector<std::string> sans(m::max_presented_names, "fabrikam.com");
    const auto r = domain_match("contoso.com", sans, {"contoso.com"}, m::cn_fallback::always);
    BOOST_TEST(!r.matched);
    BOOST_TEST((*r.names.back().ignored == m::ignore_reason::over_cap));
}

BOOST_AUTO_TEST_CASE(host_rules_never_report_one_node_deep) {
    const auto r = m::match(ref("contoso.com"), {{"mail.contoso.com"}, {}}, {m::rule_set::host, m::cn_fallback::no_san});
    BOOST_TEST(!r.matched);
}

BOOST_AUTO_TEST_CASE(rule_names_are_the_documented_words) {
    BOOST_TEST(m::to_string(m::rule::exact) == "exact");
    BOOST_TEST(m::to_string(m::rule::wildcard) == "wildcard");
    BOOST_TEST(m::to_string(m::rule::one_node_deep) == "one-node-deep");
    BOOST_TEST((m::parse_cn_fallback("always") == m::cn_fallback::always));
    BOOST_TEST((m::parse_cn_fallback("no-san") == m::cn_fallback::no_san));
    BOOST_TEST(!m::parse_cn_fallback("never").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
