// log_target_test — the frame of a log line per target (proxy/log/
// log_target.hpp): syslog priorities per level, and the $JOURNAL_STREAM check
// that decides the `<N>` prefixes on stderr. What a real syslog daemon and a
// real journald receive: integration/logging_test.py.
#include <boost/test/unit_test.hpp>

#include "proxy/log/log_target.hpp"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <string>

using namespace dsproxy::log;

BOOST_AUTO_TEST_SUITE(log_target)

BOOST_AUTO_TEST_CASE(levels_map_to_syslog_priorities) {
    BOOST_TEST(syslog_priority(spdlog::level::trace) == LOG_DEBUG);
    BOOST_TEST(syslog_priority(spdlog::level::debug) == LOG_DEBUG);
    BOOST_TEST(syslog_priority(spdlog::level::info) == LOG_INFO);
    BOOST_TEST(syslog_priority(spdlog::level::warn) == LOG_WARNING);
    BOOST_TEST(syslog_priority(spdlog::level::err) == LOG_ERR);
    BOOST_TEST(syslog_priority(spdlog::level::critical) == LOG_CRIT);
}

BOOST_AUTO_TEST_CASE(journal_stream_is_device_colon_inode) {
    const auto id = parse_journal_stream("64769:123456");
    BOOST_TEST_REQUIRE(id.has_value());
    BOOST_TEST(id->device == 64769u);
    BOOST_TEST(id->inode == 123456u);
    for (const char* bad : {"", ":", "1:", ":2", "1:2:3", "a:b", "1 :2", "-1:2", "99999999999999999999999:1"})
        BOOST_TEST(!parse_journal_stream(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(only_the_named_stream_is_the_journal) {
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    struct stat st{};
    BOOST_TEST_REQUIRE(::fstat(fds[1], &st) == 0);
    const auto same = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    const auto other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
    BOOST_TEST(is_journal_stream(fds[1], same.c_str()));
    BOOST_TEST(!is_journal_stream(fds[1], other.c_str()));  // inherited, but stderr was redirected
    BOOST_TEST(!is_journal_stream(fds[1], nullptr));         // not under systemd
    BOOST_TEST(!is_journal_stream(fds[1], "garbage"));
    ::close(fds[0]);
    ::close(fds[1]);
    BOOST_TEST(!is_journal_stream(fds[1], same.c_str()));    // a closed descriptor
}

BOOST_AUTO_TEST_SUITE_END()
