// Tests for line_framer: CRLF lines, bare LF, and the line limit at its edge.
#include "proxy/smtp/line_framer.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace dsproxy::smtp;

BOOST_AUTO_TEST_SUITE(line_framer_tests)

BOOST_AUTO_TEST_CASE(crlf_lines_are_split_one_at_a_time) {
    line_framer f(512);
    const std::string in = "NOOP\r\nQUIT\r\nRS";
    auto a = f.next(in);
    BOOST_TEST(static_cast<int>(a.status) == static_cast<int>(frame_status::line));
    BOOST_TEST(a.text == "NOOP");
    BOOST_TEST(a.consumed == 6u);
    auto b = f.next(std::string_view(in).substr(6));
    BOOST_TEST(b.text == "QUIT");
    auto c = f.next(std::string_view(in).substr(12));
    BOOST_TEST(static_cast<int>(c.status) == static_cast<int>(frame_status::incomplete));
    BOOST_TEST(c.consumed == 0u);
}

BOOST_AUTO_TEST_CASE(bare_lf_is_reported) {
    line_framer f(512);
    auto a = f.next("NOOP\n");
    BOOST_TEST(static_cast<int>(a.status) == static_cast<int>(frame_status::bare_lf));
    BOOST_TEST(a.text == "NOOP");
}

BOOST_AUTO_TEST_CASE(line_of_exactly_the_limit_passes_and_one_more_fails) {
    line_framer f(512);
    const std::string ok = std::string(510, 'a') + "\r\n";
    BOOST_TEST(static_cast<int>(f.next(ok).status) == static_cast<int>(frame_status::line));
    const std::string over = std::string(511, 'a') + "\r\nNOOP\r\n";
    auto r = f.next(over);
    BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(frame_status::too_long));
    BOOST_TEST(r.consumed == 513u);
    auto n = f.next(std::string_view(over).substr(r.consumed));
    BOOST_TEST(n.text == "NOOP");
}

BOOST_AUTO_TEST_CASE(bare_lf_line_counts_as_if_it_ended_in_crlf) {
    // Regression (fuzz/corpus/reply_parser/crash-bare-lf-line-at-the-limit).
    line_framer f(512);
    BOOST_TEST(static_cast<int>(f.next(std::string(510, 'a') + "\n").status) ==
               static_cast<int>(frame_status::bare_lf));
    auto r = f.next(std::string(511, 'a') + "\nNOOP\r\n");
    BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(frame_status::too_long));
    BOOST_TEST(r.consumed == 512u);
}

BOOST_AUTO_TEST_CASE(over_long_line_is_discarded_across_reads) {
    line_framer f(16);
    auto a = f.next(std::string(40, 'x'));
    BOOST_TEST(static_cast<int>(a.status) == static_cast<int>(frame_status::incomplete));
    BOOST_TEST(a.consumed == 40u);
    BOOST_TEST(f.discarding());
    auto b = f.next(std::string(100, 'y'));
    BOOST_TEST(b.consumed == 100u);
    auto c = f.next("zz\r\nQUIT\r\n");
    BOOST_TEST(static_cast<int>(c.status) == static_cast<int>(frame_status::too_long));
    BOOST_TEST(c.consumed == 4u);
    BOOST_TEST(!f.discarding());
}

BOOST_AUTO_TEST_SUITE_END()
