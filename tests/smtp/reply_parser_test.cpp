// Tests for reply_parser and capabilities: multi-line replies, limits, EHLO keywords.
#include "proxy/smtp/capabilities.hpp"
#include "proxy/smtp/reply_parser.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace dsproxy::smtp;

namespace {
using st = reply_parse::status;
int s(st x) { return static_cast<int>(x); }
}  // namespace

BOOST_AUTO_TEST_SUITE(reply_parser_tests)

BOOST_AUTO_TEST_CASE(single_and_multi_line) {
    reply_parser p{smtp_limits{}};
    const std::string in = "250-mx.example Hello\r\n250-SIZE 1000\r\n250 8BITMIME\r\n550 5.7.1 No\r\n";
    auto a = p.next(in);
    BOOST_TEST_REQUIRE(s(a.state) == s(st::complete));
    BOOST_TEST(a.value.code == 250);
    BOOST_TEST(a.value.lines.size() == 3u);
    BOOST_TEST(a.value.to_wire() == in.substr(0, a.consumed));
    auto b = p.next(std::string_view(in).substr(a.consumed));
    BOOST_TEST_REQUIRE(s(b.state) == s(st::complete));
    BOOST_TEST(b.value.code == 550);
    BOOST_TEST(b.value.status.has_value());
    BOOST_TEST(b.value.status->to_string() == "5.7.1");
}

BOOST_AUTO_TEST_CASE(split_across_reads) {
    reply_parser p{smtp_limits{}};
    const std::string in = "250-first\r\n250 second\r\n";
    for (std::size_t cut = 0; cut < in.size(); ++cut) {
        reply_parser q{smtp_limits{}};
        auto a = q.next(std::string_view(in).substr(0, cut));
        BOOST_TEST(s(a.state) == s(st::incomplete));
        const std::string rest = in.substr(0, cut).substr(a.consumed) + in.substr(cut);
        auto b = q.next(rest);
        BOOST_TEST_REQUIRE(s(b.state) == s(st::complete));
        BOOST_TEST(b.value.lines.size() == 2u);
    }
}

BOOST_AUTO_TEST_CASE(bare_code_and_errors) {
    reply_parser p{smtp_limits{}};
    auto a = p.next("354\r\n");
    BOOST_TEST(s(a.state) == s(st::complete));
    BOOST_TEST(a.value.code == 354);
    for (const char* bad : {"25 x\r\n", "250x\r\n", "650 x\r\n", "abc\r\n", "2a0 x\r\n"}) {
        reply_parser q{smtp_limits{}};
        BOOST_TEST(static_cast<int>(q.next(bad).error) == static_cast<int>(reply_error::malformed), bad);
    }
    reply_parser q{smtp_limits{}};
    BOOST_TEST(static_cast<int>(q.next("250-a\r\n251 b\r\n").error) ==
               static_cast<int>(reply_error::inconsistent_code));
}

BOOST_AUTO_TEST_CASE(line_limit_is_enforced) {
    smtp_limits l;
    l.reply_line_max = 64;
    reply_parser ok{l};
    BOOST_TEST(s(ok.next("250 " + std::string(58, 'x') + "\r\n").state) == s(st::complete));
    reply_parser over{l};
    BOOST_TEST(static_cast<int>(over.next("250 " + std::string(59, 'x') + "\r\n").error) ==
               static_cast<int>(reply_error::line_too_long));
    reply_parser endless{l};
    BOOST_TEST(static_cast<int>(endless.next(std::string(200, '2')).error) ==
               static_cast<int>(reply_error::line_too_long));
}

BOOST_AUTO_TEST_CASE(line_count_limit_is_enforced) {
    smtp_limits l;
    l.reply_lines_max = 3;
    reply_parser ok{l};
    BOOST_TEST(s(ok.next("250-a\r\n250-b\r\n250 c\r\n").state) == s(st::complete));
    reply_parser over{l};
    BOOST_TEST(static_cast<int>(over.next("250-a\r\n250-b\r\n250-c\r\n250 d\r\n").error) ==
               static_cast<int>(reply_error::too_many_lines));
}

BOOST_AUTO_TEST_CASE(ehlo_capabilities) {
    reply_parser p{smtp_limits{}};
    const auto r = p.next(
        "250-backend.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8bitmime\r\n250-SMTPUTF8\r\n"
        "250-CHUNKING\r\n250-DSN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n"
        "250 XCLIENT NAME ADDR PROTO HELO\r\n");
    BOOST_TEST_REQUIRE(s(r.state) == s(st::complete));
    const auto c = parse_ehlo_reply(r.value);
    BOOST_TEST(c.pipelining);
    BOOST_TEST(*c.size == 10240000u);
    BOOST_TEST(c.eight_bit_mime);
    BOOST_TEST(c.smtputf8);
    BOOST_TEST(c.chunking);
    BOOST_TEST(c.dsn);
    BOOST_TEST(c.starttls);
    BOOST_TEST(c.enhanced_status_codes);
    BOOST_TEST(c.xclient_supports("addr"));
    BOOST_TEST(!c.xclient_supports("LOGIN"));
    // The greeting line is never read as a keyword.
    reply_parser q{smtp_limits{}};
    const auto g = parse_ehlo_reply(q.next("250 STARTTLS\r\n").value);
    BOOST_TEST(!g.starttls);
}

BOOST_AUTO_TEST_SUITE_END()
