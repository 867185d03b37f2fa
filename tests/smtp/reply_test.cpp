// reply_test — replies as values on the wire (issue 16 item 3): a line never
// carries a line break or another control byte, whatever reached its text;
// reply_safe makes peer-chosen text printable and bounded.
#include "proxy/smtp/reply.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::smtp;
using namespace std::string_literals;

BOOST_AUTO_TEST_CASE(a_reply_line_cannot_be_ended_early) {
    const auto r = make_reply(451, "4.7.5 names: (mx.forge.test\r\n250 2.1.5 forged\r\n)\x00 end"s);
    BOOST_TEST(r.to_wire() == "451 4.7.5 names: (mx.forge.test?\?250 2.1.5 forged?\?)? end\r\n");
    BOOST_TEST(r.first_line() == "451 4.7.5 names: (mx.forge.test?\?250 2.1.5 forged?\?)? end");
    reply multi;
    multi.code = 250;
    multi.lines = {"a\nb", "c\td"};  // TAB stays (RFC 5321 text allows it)
    BOOST_TEST(multi.to_wire() == "250-a?b\r\n250 c\td\r\n");
}

// Issue 15 item 3: the whole of a multi-line reply on one line, for the log.
BOOST_AUTO_TEST_CASE(joined_keeps_every_line) {
    reply multi;
    multi.code = 250;
    multi.lines = {"2.0.0 Ok", "2.0.0 queued as 4F1A\r\n"};
    BOOST_TEST(multi.joined(" | ") == "250-2.0.0 Ok | 250 2.0.0 queued as 4F1A??");
    BOOST_TEST(make_reply(550, "5.7.1 No").joined(" | ") == "550 5.7.1 No");
    reply bare;
    bare.code = 354;
    BOOST_TEST(bare.joined(" | ") == "354");
}

BOOST_AUTO_TEST_CASE(reply_safe_is_printable_and_bounded) {
    BOOST_TEST(reply_safe("plain text", 100) == "plain text");
    BOOST_TEST(reply_safe("a\r\nb\x01\xc3\xa9", 100) == "a?\?b?\?\?");
    BOOST_TEST(reply_safe(std::string(600, 'x'), 20) == std::string(17, 'x') + "...");
    BOOST_TEST(reply_safe(std::string(600, 'x'), 20).size() == 20u);
    BOOST_TEST(reply_safe("abcdef", 2) == "..");
    BOOST_TEST(reply_safe("abc", 0).empty());
}
