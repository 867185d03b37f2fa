// connection_limits_test — the counts of docs/design.md §2 (421 at accept) hold across
// I/O threads: never more admitted at once than max_connections in total or
// max_connections_per_client per address, whichever threads admit and
// release; slots release on any thread; new maxima apply to new admissions.
#include "proxy/net/connection_limits.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>
#include <vector>

using namespace dsproxy::net;
using boost::asio::ip::make_address;

BOOST_AUTO_TEST_SUITE(limits)

BOOST_AUTO_TEST_CASE(total_and_per_client_maxima) {
    auto limits = std::make_shared<connection_limits>(3, 2);
    const auto a = make_address("192.0.2.1"), b = make_address("2001:db8::1");
    connection_limits::slot s1, s2, s3, s4, s5;
    BOOST_TEST((limits->try_admit(a, s1) == admission::admitted));
    BOOST_TEST((limits->try_admit(a, s2) == admission::admitted));
    BOOST_TEST((limits->try_admit(a, s3) == admission::over_per_client));
    BOOST_TEST(!s3);
    BOOST_TEST((limits->try_admit(b, s3) == admission::admitted));
    BOOST_TEST((limits->try_admit(b, s4) == admission::over_total));
    BOOST_TEST(limits->total() == 3u);
    s1.reset();
    BOOST_TEST(limits->from(a) == 1u);
    BOOST_TEST((limits->try_admit(b, s4) == admission::admitted));
    BOOST_TEST(limits->from(b) == 2u);
    // A reload lowers the maxima: open connections stay, new ones are refused.
    limits->set_maxima(2, 1);
    BOOST_TEST((limits->try_admit(make_address("192.0.2.9"), s5) == admission::over_total));
    s2 = connection_limits::slot{};  // move-assigning releases the old slot
    s3.reset();
    BOOST_TEST(limits->total() == 1u);
    BOOST_TEST((limits->try_admit(b, s5) == admission::over_per_client));
    BOOST_TEST((limits->try_admit(a, s5) == admission::admitted));
}

// Four threads admit and release at random from two addresses; a watcher
// counts what is held. The invariants must hold at every instant, and every
// count must be back to zero at the end (no leak, no double release).
BOOST_AUTO_TEST_CASE(counts_hold_across_threads) {
    constexpr std::size_t max_total = 8, max_per_client = 5, rounds = 20000;
    auto limits = std::make_shared<connection_limits>(max_total, max_per_client);
    const std::array addresses{make_address("192.0.2.1"), make_address("192.0.2.2")};
    std::array<std::atomic<long>, 2> held{};
    std::atomic<long> held_total{0}, violations{0}, admitted{0}, refused{0};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            std::vector<std::pair<connection_limits::slot, std::size_t>> mine;
            unsigned x = 2463534242u + t;
            for (std::size_t i = 0; i < rounds; ++i) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;  // xorshift: a cheap private PRNG
                if (x % 3 != 0 || mine.empty()) {
                    const std::size_t who = x % 2;
                    connection_limits::slot s;
                    if (limits->try_admit(addresses[who], s) == admission::admitted) {
                        ++admitted;
                        // Counted after admission, uncounted before release: at
                        // any instant `held` is at most what the limits admit.
                        if (++held[who] > static_cast<long>(max_per_client)) ++violations;
                        if (++held_total > static_cast<long>(max_total)) ++violations;
                        mine.emplace_back(std::move(s), who);
                    } else {
                        ++refused;
                    }
                } else {
                    auto& [slot, who] = mine.back();
                    --held[who];
                    --held_total;
                    slot.reset();
                    mine.pop_back();
                }
            }
            for (auto& [slot, who] : mine) {
                --held[who];
                --held_total;
                slot.reset();
            }
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(violations.load() == 0);
    BOOST_TEST(admitted.load() > 1000);
    BOOST_TEST(refused.load() > 0);  // the limits were reached, not just approached
    BOOST_TEST(limits->total() == 0u);
    BOOST_TEST(limits->from(addresses[0]) == 0u);
    BOOST_TEST(limits->from(addresses[1]) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
