// value_test — the text log format's escaping (proxy/log/value.hpp): a line
// built from values of random bytes stays one line and reads back, with a
// key=value parser written here, as exactly the fields it was built from.
#define BOOST_TEST_MODULE log
#include <boost/test/unit_test.hpp>

#include "proxy/log/value.hpp"

#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

using dsproxy::log::value;

namespace {

using fields = std::vector<std::pair<std::string, std::string>>;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// A logfmt reader, as a log collector would run it: space-separated
// key=value pairs, a value bare or in double quotes with \" \\ \xNN escapes.
// nullopt for anything that is not that grammar.
std::optional<fields> parse(std::string_view line) {
    fields out;
    std::size_t i = 0;
    while (i < line.size()) {
        if (line[i] == ' ') {
            ++i;
            continue;
        }
        const std::size_t eq = line.find('=', i);
        if (eq == std::string_view::npos) return std::nullopt;
        std::string key(line.substr(i, eq - i));
        if (key.empty() || key.find_first_of(" \"\\") != std::string::npos) return std::nullopt;
        i = eq + 1;
        std::string val;
        if (i < line.size() && line[i] == '"') {
            ++i;
            for (;;) {
                if (i >= line.size()) return std::nullopt;  // unterminated
                const char c = line[i++];
                if (c == '"') break;
                if (c != '\\') {
                    val += c;
                    continue;
                }
                if (i >= line.size()) return std::nullopt;
                const char e = line[i++];
                if (e == '"' || e == '\\') {
                    val += e;
                } else if (e == 'x' && i + 2 <= line.size() && hex_digit(line[i]) >= 0 && hex_digit(line[i + 1]) >= 0) {
                    val += static_cast<char>(hex_digit(line[i]) * 16 + hex_digit(line[i + 1]));
                    i += 2;
                } else {
                    return std::nullopt;
                }
            }
            if (i < line.size() && line[i] != ' ') return std::nullopt;  // a quote must end the value
        } else {
            const std::size_t end = std::min(line.find(' ', i), line.size());
            val = std::string(line.substr(i, end - i));
            if (val.find_first_of("\"=\\") != std::string::npos) return std::nullopt;
            i = end;
        }
        out.emplace_back(std::move(key), std::move(val));
    }
    return out;
}

bool one_printable_line(std::string_view line) {
    for (const unsigned char c : line)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(log_value)

BOOST_AUTO_TEST_CASE(plain_values_stay_bare) {
    BOOST_TEST(value("<alice@sender.example>") == "<alice@sender.example>");
    BOOST_TEST(value("mx.example") == "mx.example");
    BOOST_TEST(value("TLSv1.3") == "TLSv1.3");
}

BOOST_AUTO_TEST_CASE(structure_bytes_force_quotes_and_are_escaped) {
    BOOST_TEST(value("") == R"("")");
    BOOST_TEST(value("250 2.0.0 Ok") == R"("250 2.0.0 Ok")");
    BOOST_TEST(value("CN=mx.example") == R"("CN=mx.example")");
    // The finding of issue 16 item 4: a quoted local part that adds a field.
    BOOST_TEST(value(R"(<"a> result=250 x=<"@sender.example>)") == R"("<\"a> result=250 x=<\"@sender.example>")");
    BOOST_TEST(value("a\\b") == R"("a\\b")");
    BOOST_TEST(value(std::string("x\r\n2026 info forged\0\x7f\xc3\xb6", 23)) ==
               R"("x\x0d\x0a2026 info forged\x00\x7f\xc3\xb6")");
}

BOOST_AUTO_TEST_CASE(long_values_are_cut_inside_the_quotes) {
    BOOST_TEST(value("abcdef", 3) == R"("abc...")");
    BOOST_TEST(value("abc", 3) == "abc");
    BOOST_TEST(value(std::string(300, 'a')).size() == 256u + 5u);
}

// The property: one line in, one line out, fields intact — for any bytes.
BOOST_AUTO_TEST_CASE(random_bytes_keep_one_line_of_the_fields_written) {
    std::mt19937 rng(16);
    // Bytes that matter to a line or a parser, drawn more often than the rest.
    const std::string special("\"\\= \r\n\t\0\x7f\x80\xff\xe2\x80\xa8x", 15);
    const std::vector<std::string> keys = {"sid", "from", "to", "sni", "helo", "subject", "reason", "result"};
    for (int round = 0; round < 20000; ++round) {
        fields written;
        std::string line;
        const int n = 1 + static_cast<int>(rng() % 6);
        for (int f = 0; f < n; ++f) {
            std::string bytes;
            const std::size_t length = rng() % 4 == 0 ? rng() % 300 : rng() % 12;
            for (std::size_t k = 0; k < length; ++k)
                bytes += rng() % 2 ? special[rng() % special.size()] : static_cast<char>(rng() % 256);
            const std::size_t max = rng() % 2 ? 256 : 1 + rng() % 20;
            const auto& key = keys[rng() % keys.size()];
            line += (line.empty() ? "" : " ") + key + "=" + value(bytes, max);
            written.emplace_back(key, bytes.size() > max ? bytes.substr(0, max) + "..." : bytes);
        }
        BOOST_TEST_REQUIRE(one_printable_line(line), line);
        const auto read = parse(line);
        BOOST_TEST_REQUIRE(read.has_value(), line);
        BOOST_TEST_REQUIRE((*read == written), line);
    }
}

BOOST_AUTO_TEST_SUITE_END()
