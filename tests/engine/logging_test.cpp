// logging_test — JSON log lines: the session id becomes its own member, and
// everything a peer can put in a message is escaped so that a line stays one
// valid JSON object (docs/design.md §8).
#include <boost/test/unit_test.hpp>

#include "proxy/log/logging.hpp"

#include <string>

using dsproxy::log::json_escape;
using dsproxy::log::json_members;

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(session_lines_carry_the_id_as_a_member) {
    BOOST_TEST(json_members("sid=5962a69f5962 txn from=<a@b> result=\"250 ok\"") ==
               R"("sid":"5962a69f5962","msg":"txn from=<a@b> result=\"250 ok\"")");
    BOOST_TEST(json_members("sid=abc") == R"("sid":"abc","msg":"")");
}

BOOST_AUTO_TEST_CASE(other_lines_are_one_message) {
    BOOST_TEST(json_members("dsproxy started") == R"("msg":"dsproxy started")");
    BOOST_TEST(json_members("sid= no id") == R"("msg":"sid= no id")");
    BOOST_TEST(json_members("") == R"("msg":"")");
}

BOOST_AUTO_TEST_CASE(control_bytes_quotes_and_backslashes_are_escaped) {
    BOOST_TEST(json_escape("a\"b\\c\r\nd\te\x01\x7f") == R"(a\"b\\c\r\nd\te\u0001\u007f)");
    BOOST_TEST(json_members(std::string("sid=x\"y z\0w", 11)) == R"("sid":"x\"y","msg":"z\u0000w")");
}

BOOST_AUTO_TEST_SUITE_END()
