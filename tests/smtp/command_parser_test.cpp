// Tests for command_parser: the verb table, case, arguments, HTTP rows.
#include "proxy/smtp/command_parser.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::smtp;

BOOST_AUTO_TEST_SUITE(command_parser_tests)

BOOST_AUTO_TEST_CASE(verbs_are_case_insensitive) {
    BOOST_TEST(static_cast<int>(parse_command("ehlo client.example").id) == static_cast<int>(verb::ehlo));
    BOOST_TEST(parse_command("eHlO client.example").args == "client.example");
    BOOST_TEST(static_cast<int>(parse_command("StartTLS").id) == static_cast<int>(verb::starttls));
}

BOOST_AUTO_TEST_CASE(every_table_row_parses_to_itself) {
    for (const auto& row : verb_table()) {
        const std::string line = std::string(row.name) + (row.args == arguments::required ? " x" : "");
        const auto c = parse_command(line);
        BOOST_TEST(static_cast<int>(c.id) == static_cast<int>(row.id));
        BOOST_TEST(static_cast<int>(c.error) == static_cast<int>(command_error::none));
    }
}

BOOST_AUTO_TEST_CASE(argument_rules) {
    BOOST_TEST(static_cast<int>(parse_command("DATA now").error) ==
               static_cast<int>(command_error::unexpected_argument));
    BOOST_TEST(static_cast<int>(parse_command("EHLO").error) == static_cast<int>(command_error::missing_argument));
    BOOST_TEST(static_cast<int>(parse_command("EHLO   ").error) == static_cast<int>(command_error::missing_argument));
    BOOST_TEST(parse_command("MAIL FROM:<a@b>  ").args == "FROM:<a@b>");
    BOOST_TEST(static_cast<int>(parse_command("NOOP").error) == static_cast<int>(command_error::none));
}

BOOST_AUTO_TEST_CASE(http_methods_are_recognised) {
    for (const char* line : {"GET / HTTP/1.1", "POST /x HTTP/1.0", "CONNECT a:25 HTTP/1.1", "put /", "HEAD /"})
        BOOST_TEST(static_cast<int>(parse_command(line).id) == static_cast<int>(verb::http));
}

BOOST_AUTO_TEST_CASE(unknown_and_binary) {
    BOOST_TEST(static_cast<int>(parse_command("FOO bar").id) == static_cast<int>(verb::unknown));
    BOOST_TEST(static_cast<int>(parse_command("MAILX FROM:<>").id) == static_cast<int>(verb::unknown));
    BOOST_TEST(static_cast<int>(parse_command(std::string("NO\0OP", 5)).error) ==
               static_cast<int>(command_error::bad_characters));
    BOOST_TEST(static_cast<int>(parse_command("NOOP\r").error) == static_cast<int>(command_error::bad_characters));
    BOOST_TEST(static_cast<int>(parse_command("").id) == static_cast<int>(verb::unknown));
}

BOOST_AUTO_TEST_SUITE_END()
