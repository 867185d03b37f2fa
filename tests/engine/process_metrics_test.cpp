// process_metrics_test — the process_* samples read from this test's own
// /proc/self, and their exposition with dsproxy_build_info and the reload gauges.
#include <boost/test/unit_test.hpp>

#include "proxy/engine/process_metrics.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

using namespace dsproxy::engine;

BOOST_AUTO_TEST_SUITE(process_metrics)

BOOST_AUTO_TEST_CASE(this_process_is_sampled) {
    const auto before = read_process_sample();
    BOOST_TEST_REQUIRE(before.has_value());
    const double now = static_cast<double>(std::time(nullptr));
    BOOST_TEST(before->start_time_seconds <= now + 1);
    BOOST_TEST(before->start_time_seconds > now - 24 * 3600);
    BOOST_TEST(before->resident_memory_bytes > 1u << 20);
    BOOST_TEST(before->virtual_memory_bytes >= before->resident_memory_bytes);
    BOOST_TEST(before->open_fds >= 3u);  // stdin, stdout, stderr
    BOOST_TEST(before->max_fds >= before->open_fds);
    // One more descriptor is counted as one more.
    const int fd = ::open("/dev/null", O_RDONLY);
    BOOST_TEST_REQUIRE(fd >= 0);
    const auto after = read_process_sample();
    ::close(fd);
    BOOST_TEST(after->open_fds == before->open_fds + 1);
}

BOOST_AUTO_TEST_CASE(exposition) {
    process_sample p;
    p.start_time_seconds = 1796000000.5;
    p.resident_memory_bytes = 12345678;
    p.virtual_memory_bytes = 99999999;
    p.open_fds = 42;
    p.max_fds = 65536;
    p.cpu_seconds = 1.25;
    const auto text = render_process_metrics(p, "0.1.0", {false, 1796000100});
    for (const char* line : {"process_start_time_seconds 1796000000.5\n", "process_resident_memory_bytes 12345678\n",
                             "process_virtual_memory_bytes 99999999\n", "process_open_fds 42\n",
                             "process_max_fds 65536\n", "# TYPE process_cpu_seconds_total counter\n",
                             "process_cpu_seconds_total 1.25\n", "dsproxy_build_info{version=\"0.1.0\"} 1\n",
                             "dsproxy_config_last_reload_successful 0\n",
                             "dsproxy_config_last_reload_success_timestamp_seconds 1796000100\n"})
        BOOST_TEST(text.find(line) != std::string::npos, line);
    // Without /proc: the build and reload samples only.
    const auto bare = render_process_metrics(std::nullopt, "0.1.0", {true, 1});
    BOOST_TEST(bare.find("process_") == std::string::npos);
    BOOST_TEST(bare.find("dsproxy_config_last_reload_successful 1\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
