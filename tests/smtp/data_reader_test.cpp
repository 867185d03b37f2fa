// Tests for data_reader and bdat_content: end of data at every split position,
// dot-stuffing kept byte for byte, bare LF / CR under both policies, limits.
#include "proxy/smtp/bdat_content.hpp"
#include "proxy/smtp/data_reader.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace dsproxy::smtp;

namespace {

struct outcome {
    std::string relayed;
    std::size_t consumed = 0;
    bool end = false;
    data_findings findings;
    bool refused = false;
};

// Feeds `in` in two pieces cut at `cut`, as two reads would deliver it.
outcome run(std::string_view in, std::size_t cut, bare_newline_policy policy = bare_newline_policy::reject,
            smtp_limits limits = {}) {
    data_reader r(limits, policy);
    outcome o;
    auto a = r.feed(in.substr(0, cut), o.relayed);
    o.consumed = a.consumed;
    o.end = a.end;
    if (!a.end) {
        auto b = r.feed(in.substr(cut), o.relayed);
        o.consumed += b.consumed;
        o.end = b.end;
    }
    o.findings = r.findings();
    o.refused = r.refused();
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_reader_tests)

BOOST_AUTO_TEST_CASE(end_found_at_every_split_and_stuffing_kept) {
    const std::string body = "Subject: x\r\n\r\n..leading dot\r\n.\r\n";  // ends at index body.size()
    const std::string in = body + "QUIT\r\n";
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        const auto o = run(in, cut);
        BOOST_TEST_REQUIRE(o.end, "cut " << cut);
        BOOST_TEST(o.consumed == body.size(), "cut " << cut);
        BOOST_TEST(o.relayed == "Subject: x\r\n\r\n..leading dot\r\n", "cut " << cut);
        BOOST_TEST(!o.refused);
    }
}

BOOST_AUTO_TEST_CASE(empty_message_and_lone_dot_lines) {
    auto o = run(".\r\n", 0);
    BOOST_TEST(o.end);
    BOOST_TEST(o.relayed.empty());
    auto p = run(".x\r\n.\r\n", 1);
    BOOST_TEST(p.end);
    BOOST_TEST(p.relayed == ".x\r\n");
}

BOOST_AUTO_TEST_CASE(only_crlf_dot_crlf_ends_data) {
    for (const std::string fake : {"a\n.\n", "a\n.\r\n", "a\r\n.\n", "a\r.\r", "a\r\n.\r"}) {
        for (std::size_t cut = 0; cut <= fake.size(); ++cut) {
            const auto o = run(fake, cut);
            BOOST_TEST(!o.end, "fake end accepted");
        }
    }
}

BOOST_AUTO_TEST_CASE(bare_lf_rejected_by_default_after_consuming_to_the_end) {
    const std::string in = "a\n.\r\nMAIL FROM:<x@y>\r\n\r\n.\r\nNOOP\r\n";
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        const auto o = run(in, cut);
        BOOST_TEST_REQUIRE(o.end);
        BOOST_TEST(o.consumed == in.size() - 6);
        BOOST_TEST(o.findings.bare_lf);
        BOOST_TEST(o.refused);
    }
}

BOOST_AUTO_TEST_CASE(bare_cr_rejected) {
    const auto o = run("a\rb\r\n.\r\n", 3);
    BOOST_TEST(o.end);
    BOOST_TEST(o.findings.bare_cr);
    BOOST_TEST(o.refused);
}

BOOST_AUTO_TEST_CASE(normalize_rewrites_and_stuffs_exposed_dot_lines) {
    const std::string in = "a\n.\r\nb\rc\r\n.\r\n";
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        const auto o = run(in, cut, bare_newline_policy::normalize);
        BOOST_TEST_REQUIRE(o.end);
        BOOST_TEST(!o.refused);
        // "\n." became "\r\n.." : the next hop never sees an end we did not see.
        BOOST_TEST(o.relayed == "a\r\n..\r\nb\r\nc\r\n", "cut " << cut);
    }
}

BOOST_AUTO_TEST_CASE(text_line_limit) {
    smtp_limits l;
    l.text_line_max = 10;
    BOOST_TEST(!run("12345678\r\n.\r\n", 4, bare_newline_policy::reject, l).refused);
    const auto o = run("123456789\r\n.\r\n", 4, bare_newline_policy::reject, l);
    BOOST_TEST(o.end);
    BOOST_TEST(o.findings.line_too_long);
    BOOST_TEST(o.refused);
}

BOOST_AUTO_TEST_CASE(message_size_limit) {
    smtp_limits l;
    l.message_size_max = 10;
    BOOST_TEST(!run("12345678\r\n.\r\n", 3, bare_newline_policy::reject, l).refused);
    const auto o = run("123456789\r\n.\r\n", 3, bare_newline_policy::reject, l);
    BOOST_TEST(o.findings.too_big);
    BOOST_TEST(o.end);
    BOOST_TEST(o.relayed.size() <= 10u);
}

BOOST_AUTO_TEST_CASE(dot_stuffer_converts_chunks_to_data) {
    const std::string content = ".hidden\r\nline\n.\r\nend";
    for (std::size_t cut = 0; cut <= content.size(); ++cut) {
        dot_stuffer s;
        std::string out;
        s.feed(std::string_view(content).substr(0, cut), out);
        s.feed(std::string_view(content).substr(cut), out);
        s.finish(out);
        BOOST_TEST(out == "..hidden\r\nline\r\n..\r\nend\r\n.\r\n", "cut " << cut);
        // What we produce reads back as one message ending exactly at the end.
        data_reader r(smtp_limits{}, bare_newline_policy::reject);
        std::string back;
        const auto res = r.feed(out, back);
        BOOST_TEST(res.end);
        BOOST_TEST(res.consumed == out.size());
        BOOST_TEST(!r.refused());
    }
}

BOOST_AUTO_TEST_CASE(newline_scanner_across_chunks) {
    newline_scanner a;
    a.feed("x\r");
    a.feed("\ny");
    a.finish();
    BOOST_TEST(!a.bare_cr());
    BOOST_TEST(!a.bare_lf());
    newline_scanner b;
    b.feed("x\r");
    b.feed("y");
    BOOST_TEST(b.bare_cr());
    newline_scanner c;
    c.feed("x\r");
    c.finish();
    BOOST_TEST(c.bare_cr());
    newline_scanner d;
    d.feed("x\n");
    BOOST_TEST(d.bare_lf());
}

BOOST_AUTO_TEST_SUITE_END()
