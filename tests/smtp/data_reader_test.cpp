// Tests for data_reader and message_content: end of data at every split position,
// dot-stuffing kept byte for byte, bare LF / CR under both policies, limits.
#include "proxy/smtp/message_content.hpp"
#include "proxy/smtp/data_reader.hpp"
#include "tests/smtp/message_model.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace dsproxy::smtp;
using namespace std::string_literals;

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
    // A client that did not stuff ".x": by RFC 5321 §4.5.2 the line is "x".
    auto p = run(".x\r\n.\r\n", 1);
    BOOST_TEST(p.end);
    BOOST_TEST(p.relayed == "x\r\n");
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

// The end-of-data look-alikes of the SMTP smuggling research (SEC Consult,
// 2023) and of issue 16's adversarial test: a dot at a real or a fake line
// start with a bare LF, a bare CR, CR CR LF or a NUL beside it.
const std::vector<std::string> look_alikes = {
    "\r\n.\n", "\r\n.\r\r\n", "\r\r\n.\r\r\n", "\r\n.\r", "\n.\n", "\n.\r\n", "\r.\r", "\r.\r\n", "\n.\r",
    "\r\n.\n\r\n", "\n\n.\n\n", "\r\n..\n", "\r.\n", std::string("\r\n\0.\r\n", 6),
    std::string("\r\n.\0\r\n", 6), std::string("\n.\0\n", 4), std::string("\r\n.\r\0\r\n", 7)};

std::string smuggling_attempt(const std::string& look_alike) {
    return "Subject: first\r\n\r\nhello" + look_alike +
           "MAIL FROM:<ceo@sender.example>\r\nRCPT TO:<victim@other.example>\r\nDATA\r\n"
           "Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n";
}

BOOST_AUTO_TEST_CASE(look_alikes_under_normalize_give_one_message_with_the_normalised_body) {
    for (const auto& look_alike : look_alikes) {
        const std::string data = smuggling_attempt(look_alike);
        const std::string in = data + "QUIT\r\n";
        const auto expected = model::normalise(model::read_data(in)->content);
        for (std::size_t cut = 0; cut <= in.size(); ++cut) {
            const auto o = run(in, cut, bare_newline_policy::normalize);
            BOOST_TEST_REQUIRE(o.end);
            BOOST_TEST(o.consumed == data.size());
            BOOST_TEST(!o.refused);
            // What the next hop gets (our final ".\r\n" added) is one message,
            // for a strict and a lax reader alike, with exactly that body.
            const auto read = model::read_one_message(o.relayed + ".\r\n");
            BOOST_TEST_REQUIRE(read.has_value(), "look-alike " << look_alike.size() << " bytes, cut " << cut);
            BOOST_TEST(*read == expected, "cut " << cut);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_findings_of_issue_16_exactly) {
    const auto out = [](const std::string& look_alike) {
        return run(smuggling_attempt(look_alike), 0, bare_newline_policy::normalize).relayed;
    };
    const std::string rest = "MAIL FROM:<ceo@sender.example>\r\nRCPT TO:<victim@other.example>\r\nDATA\r\n"
                             "Subject: smuggled\r\n\r\nsmuggled\r\n";
    // The dot opened a CRLF line, so it was a stuffing dot: the line is empty.
    BOOST_TEST(out("\r\n.\n") == "Subject: first\r\n\r\nhello\r\n\r\n" + rest);
    BOOST_TEST(out("\r\n.\r") == "Subject: first\r\n\r\nhello\r\n\r\n" + rest);
    BOOST_TEST(out("\r\n.\r\r\n") == "Subject: first\r\n\r\nhello\r\n\r\n\r\n" + rest);
    BOOST_TEST(out("\r\r\n.\r\r\n") == "Subject: first\r\n\r\nhello\r\n\r\n\r\n\r\n" + rest);
    // A dot after a bare LF is content, alone on its line once normalised: stuffed.
    BOOST_TEST(out("\n.\n") == "Subject: first\r\n\r\nhello\r\n..\r\n" + rest);
}

BOOST_AUTO_TEST_CASE(look_alikes_under_reject_are_refused_or_one_message) {
    for (const auto& look_alike : look_alikes) {
        const std::string data = smuggling_attempt(look_alike);
        const bool bare = !model::only_crlf(data);
        for (std::size_t cut = 0; cut <= data.size(); ++cut) {
            const auto o = run(data, cut, bare_newline_policy::reject);
            BOOST_TEST_REQUIRE(o.end);
            BOOST_TEST(o.consumed == data.size());
            BOOST_TEST(o.refused == bare);
            if (bare) BOOST_TEST((o.findings.bare_lf || o.findings.bare_cr));
            // Nothing after the first bare newline is relayed; a NUL is no line end.
            if (bare) BOOST_TEST(model::only_crlf(o.relayed));
            else BOOST_TEST((model::read_one_message(o.relayed + ".\r\n") == model::read_data(data)->content));
        }
    }
}

BOOST_AUTO_TEST_CASE(look_alikes_in_bdat_converted_to_data_give_one_message) {
    for (const auto& look_alike : look_alikes) {
        const std::string content = smuggling_attempt(look_alike);  // as chunk bytes: all content
        for (std::size_t cut = 0; cut <= content.size(); ++cut) {
            dot_stuffer s;
            std::string out;
            s.feed(std::string_view(content).substr(0, cut), out);
            s.feed(std::string_view(content).substr(cut), out);
            s.finish(out);
            const auto read = model::read_one_message(out);
            BOOST_TEST_REQUIRE(read.has_value(), "cut " << cut);
            BOOST_TEST(*read == model::normalise(content));
        }
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
