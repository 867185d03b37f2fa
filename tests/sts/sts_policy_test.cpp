// sts_policy: RFC 8461 §3.2 policies, accepted whole or refused with the
// error and line that say why — never a partial policy.
#include "proxy/sts/sts_policy.hpp"

#include "tests/sts/printers.hpp"

#include <boost/test/unit_test.hpp>

namespace s = dsproxy::sts;
using s::policy_error;

namespace {

s::policy_parse parse(std::string_view text) { return s::parse_policy(text); }

void check_error(std::string_view text, policy_error e, std::size_t line) {
    const auto r = parse(text);
    BOOST_TEST_CONTEXT(text) {
        BOOST_TEST(!r.policy.has_value());
        BOOST_TEST(r.error == e);
        BOOST_TEST(r.line == line);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(rfc_example_policy_parses) {
    const auto r = parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
                         "mx: backupmx.example.com\r\nmax_age: 604800\r\n");
    BOOST_REQUIRE(r.policy.has_value());
    BOOST_TEST(r.error == policy_error::none);
    BOOST_TEST(r.policy->mode == s::sts_mode::enforce);
    BOOST_TEST(r.policy->max_age == 604800u);
    BOOST_REQUIRE(r.policy->mx.size() == 3u);
    BOOST_TEST(r.policy->mx[1].text() == "*.example.net");
    BOOST_TEST(r.policy->mx[1].wildcard());
    BOOST_TEST(r.policy->allows("mx1.example.net"));
    BOOST_TEST(r.policy->allows("MAIL.example.com."));
    BOOST_TEST(!r.policy->allows("example.net"));
    BOOST_TEST(!r.policy->allows("a.b.example.net"));
    BOOST_TEST(!r.policy->allows("evil.example.org"));
}

BOOST_AUTO_TEST_CASE(lf_lines_whitespace_order_and_no_final_line_end) {
    const auto r = parse("max_age:86400\nmx:\t mx.example.com  \nmode:   testing\nversion: STSv1");
    BOOST_REQUIRE(r.policy.has_value());
    BOOST_TEST(r.policy->mode == s::sts_mode::testing);
    BOOST_TEST(r.policy->max_age == 86400u);
    BOOST_TEST(r.policy->mx.at(0).text() == "mx.example.com");
}

BOOST_AUTO_TEST_CASE(mode_none_needs_no_mx_and_extensions_are_ignored) {
    const auto r = parse("version: STSv1\nmode: none\nmax_age: 0\nx-vendor.tag_1: anything goes here ü\n");
    BOOST_REQUIRE(r.policy.has_value());
    BOOST_TEST(r.policy->mode == s::sts_mode::none);
    BOOST_TEST(r.policy->max_age == 0u);
    BOOST_TEST(r.policy->mx.empty());
}

BOOST_AUTO_TEST_CASE(max_age_bounds) {
    BOOST_TEST(parse("version: STSv1\nmode: none\nmax_age: 31557600\n").policy.has_value());
    check_error("version: STSv1\nmode: none\nmax_age: 31557601\n", policy_error::bad_max_age, 3);
    check_error("version: STSv1\nmode: none\nmax_age: 00000000001\n", policy_error::bad_max_age, 3);  // 11 digits
    check_error("version: STSv1\nmode: none\nmax_age: -1\n", policy_error::bad_max_age, 3);
    check_error("version: STSv1\nmode: none\nmax_age: 1d\n", policy_error::bad_max_age, 3);
    check_error("version: STSv1\nmode: none\nmax_age: 99999999999999999999\n", policy_error::bad_max_age, 3);
    check_error("version: STSv1\nmode: none\nmax_age:\n", policy_error::bad_max_age, 3);
}

BOOST_AUTO_TEST_CASE(keywords_are_case_sensitive) {
    check_error("version: stsv1\nmode: none\nmax_age: 1\n", policy_error::bad_version, 1);
    check_error("version: STSv2\nmode: none\nmax_age: 1\n", policy_error::bad_version, 1);
    check_error("version: STSv1\nmode: Enforce\nmax_age: 1\nmx: a.example\n", policy_error::bad_mode, 2);
    check_error("version: STSv1\nmode: strict\nmax_age: 1\n", policy_error::bad_mode, 2);
    // "Mode" is an unknown (extension) field, so mode is missing.
    check_error("version: STSv1\nMode: enforce\nmax_age: 1\nmx: a.example\n", policy_error::missing_mode, 0);
}

BOOST_AUTO_TEST_CASE(required_fields) {
    check_error("mode: none\nmax_age: 1\n", policy_error::missing_version, 0);
    check_error("version: STSv1\nmax_age: 1\n", policy_error::missing_mode, 0);
    check_error("version: STSv1\nmode: none\n", policy_error::missing_max_age, 0);
    check_error("version: STSv1\nmode: enforce\nmax_age: 1\n", policy_error::missing_mx, 0);
    check_error("version: STSv1\nmode: testing\nmax_age: 1\n", policy_error::missing_mx, 0);
}

BOOST_AUTO_TEST_CASE(singletons_repeated_are_refused) {
    check_error("version: STSv1\nversion: STSv1\nmode: none\nmax_age: 1\n", policy_error::duplicate_field, 2);
    check_error("version: STSv1\nmode: none\nmode: enforce\nmax_age: 1\n", policy_error::duplicate_field, 3);
    check_error("version: STSv1\nmode: none\nmax_age: 1\nmax_age: 2\n", policy_error::duplicate_field, 4);
}

BOOST_AUTO_TEST_CASE(line_syntax) {
    check_error("version: STSv1\n\nmode: none\nmax_age: 1\n", policy_error::empty_line, 2);
    check_error("version: STSv1\nmode: none\nmax_age: 1\n\n", policy_error::empty_line, 4);
    check_error("", policy_error::empty_line, 1);
    check_error("version STSv1\nmode: none\nmax_age: 1\n", policy_error::bad_line, 1);
    check_error("version: STSv1\n_x: y\nmode: none\nmax_age: 1\n", policy_error::bad_line, 2);
    check_error("version: STSv1\nextension:\nmode: none\nmax_age: 1\n", policy_error::bad_line, 2);
    check_error("version: STSv1\nname with space: y\nmode: none\nmax_age: 1\n", policy_error::bad_line, 2);
    check_error("version: STSv1\nabcdefghijabcdefghijabcdefghijabc: y\nmode: none\nmax_age: 1\n",
                policy_error::bad_line, 2);  // a 33-character name
    check_error("<html><body>Not found</body></html>", policy_error::bad_line, 1);
}

BOOST_AUTO_TEST_CASE(bytes_outside_the_grammar) {
    check_error(std::string_view("version: STSv1\nmode: none\0\nmax_age: 1\n", 39), policy_error::bad_text, 0);
    check_error("version: STSv1\rmode: none\nmax_age: 1\n", policy_error::bad_text, 0);
    check_error("version: STSv1\nmode: none\nmax_age: 1\nx: \xff\xfe\n", policy_error::bad_text, 0);
    check_error("version: STSv1\nmode: none\nmax_age: 1\nx: a\x7f\n", policy_error::bad_text, 0);
}

BOOST_AUTO_TEST_CASE(mx_patterns) {
    const std::string head = "version: STSv1\nmode: enforce\nmax_age: 1\n";
    check_error(head + "mx: *\n", policy_error::bad_mx, 4);
    check_error(head + "mx: mx.example.com.\n", policy_error::bad_mx, 4);
    check_error(head + "mx: m*.example.com\n", policy_error::bad_mx, 4);
    check_error(head + "mx: a.*.example.com\n", policy_error::bad_mx, 4);
    check_error(head + "mx: -bad.example.com\n", policy_error::bad_mx, 4);
    check_error(head + "mx: \n", policy_error::bad_mx, 4);
    check_error(head + "mx: a.example.com b.example.com\n", policy_error::bad_mx, 4);
    std::string many = head;
    for (std::size_t i = 0; i <= s::max_mx_patterns; ++i) many += "mx: mx" + std::to_string(i) + ".example.com\n";
    check_error(many, policy_error::too_many_mx, 3 + s::max_mx_patterns + 1);
}

BOOST_AUTO_TEST_CASE(size_limit) {
    std::string text = "version: STSv1\nmode: none\nmax_age: 1\n";
    while (text.size() <= s::max_policy_size) text += "x: padding padding padding padding\n";
    check_error(text, policy_error::too_large, 0);
}

BOOST_AUTO_TEST_CASE(policy_lines_for_reports) {
    BOOST_TEST(s::policy_lines("version: STSv1\r\nmode:  none \r\nmax_age: 1\r\n") ==
               (std::vector<std::string>{"version: STSv1", "mode:  none", "max_age: 1"}));
}
