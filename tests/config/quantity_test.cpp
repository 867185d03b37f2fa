// Typed durations, sizes and counts: valid spellings, every invalid class,
// overflow, and printing back in the largest exact unit.
#include "config/quantity.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::config;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(quantities)

BOOST_AUTO_TEST_CASE(durations_in_every_unit) {
    BOOST_TEST(parse_duration("500ms")->count() == 500);
    BOOST_TEST((*parse_duration("30s") == 30s));
    BOOST_TEST((*parse_duration("5m") == 5min));
    BOOST_TEST((*parse_duration("1h") == 1h));
    BOOST_TEST((*parse_duration("2d") == 48h));
    BOOST_TEST(parse_duration("0")->count() == 0);
}

BOOST_AUTO_TEST_CASE(invalid_durations_say_what_was_expected) {
    std::string error;
    BOOST_TEST(!parse_duration("30", &error));
    BOOST_TEST(error.find("needs a unit") != std::string::npos);
    BOOST_TEST(!parse_duration("5M", &error));  // minutes are `m`; `M` is not a unit
    BOOST_TEST(error.find("unknown duration unit `M`") != std::string::npos);
    for (const char* bad : {"", "s", "-5s", "5 s", "1.5h", "5min", "abc", "99999999999999999999s"}) {
        BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!parse_duration(bad, &error)); }
    }
    BOOST_TEST(!parse_duration("9999999999999999d", &error));
    BOOST_TEST(error.find("too large") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(durations_print_in_the_largest_exact_unit) {
    BOOST_TEST(format_duration(300s) == "5m");
    BOOST_TEST(format_duration(90s) == "90s");
    BOOST_TEST(format_duration(1500ms) == "1500ms");
    BOOST_TEST(format_duration(24h) == "1d");
    BOOST_TEST(format_duration(0s) == "0s");
}

BOOST_AUTO_TEST_CASE(sizes_binary_decimal_and_bytes) {
    BOOST_TEST(*parse_size("10MiB") == 10u * 1024 * 1024);
    BOOST_TEST(*parse_size("50MB") == 50'000'000u);
    BOOST_TEST(*parse_size("512KiB") == 512u * 1024);
    BOOST_TEST(*parse_size("1kB") == 1000u);
    BOOST_TEST(*parse_size("2GiB") == 2ull << 30);
    BOOST_TEST(*parse_size("1000") == 1000u);
    BOOST_TEST(*parse_size("1000B") == 1000u);
    BOOST_TEST(*parse_size("10mib") == 10u * 1024 * 1024);  // units are case-insensitive
}

BOOST_AUTO_TEST_CASE(invalid_sizes) {
    std::string error;
    BOOST_TEST(!parse_size("10XB", &error));
    BOOST_TEST(error.find("unknown size unit `XB`") != std::string::npos);
    for (const char* bad : {"", "MiB", "-1", "1.5MiB", "10 MiB", "ten"}) {
        BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!parse_size(bad, &error)); }
    }
    BOOST_TEST(!parse_size("100000000000GiB", &error));
    BOOST_TEST(error.find("too large") != std::string::npos);
    BOOST_TEST(!parse_size("99999999999999999999", &error));
    BOOST_TEST(error.find("too large") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sizes_print_in_binary_units_when_exact) {
    BOOST_TEST(format_size(50ull << 20) == "50MiB");
    BOOST_TEST(format_size(1024) == "1KiB");
    BOOST_TEST(format_size(50'000'000) == "50000000");
    BOOST_TEST(format_size(500) == "500");
    BOOST_TEST(*parse_size(format_size(3ull << 30)) == 3ull << 30);
}

BOOST_AUTO_TEST_CASE(counts_are_bounded_whole_numbers) {
    std::string error;
    BOOST_TEST(*parse_count("100", 1000) == 100u);
    BOOST_TEST(*parse_count("1000", 1000) == 1000u);
    BOOST_TEST(!parse_count("1001", 1000, &error));
    BOOST_TEST(error.find("maximum is 1000") != std::string::npos);
    BOOST_TEST(!parse_count("10k", 1000, &error));
    BOOST_TEST(error.find("whole number") != std::string::npos);
    BOOST_TEST(!parse_count("-1", 1000));
    BOOST_TEST(!parse_count("", 1000));
}

BOOST_AUTO_TEST_SUITE_END()
