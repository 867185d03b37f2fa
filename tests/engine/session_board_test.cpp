// session_board_test — which I/O thread may accept (issue 8): the least
// loaded always may; another only within the slack (2 and an eighth).
#include "proxy/engine/session_board.hpp"

#include <boost/test/unit_test.hpp>

using dsproxy::engine::session_board;

BOOST_AUTO_TEST_CASE(one_thread_always_accepts) {
    session_board b(1);
    b.set(0, 100000);
    BOOST_TEST(b.may_accept(0));
}

BOOST_AUTO_TEST_CASE(the_least_loaded_always_accepts_others_within_the_slack) {
    session_board b(3);
    BOOST_TEST(b.may_accept(0));
    b.set(0, 2);
    BOOST_TEST(b.may_accept(0));  // 2 <= 0 + 2
    b.set(0, 3);
    BOOST_TEST(!b.may_accept(0));  // 3 > 0 + 2: threads 1 and 2 take the next ones
    BOOST_TEST(b.may_accept(1));
    BOOST_TEST(b.may_accept(2));
    b.set(1, 80);
    b.set(2, 80);
    b.set(0, 92);  // 80 + 2 + 10
    BOOST_TEST(b.may_accept(0));
    b.set(0, 93);
    BOOST_TEST(!b.may_accept(0));
    BOOST_TEST(b.fewest() == 80u);
}

BOOST_AUTO_TEST_CASE(someone_may_always_accept) {
    session_board b(4);
    for (std::size_t spread = 0; spread < 200; ++spread) {
        for (std::size_t i = 0; i < 4; ++i) b.set(i, (i * 37 + spread * 11) % 500);
        bool any = false;
        for (std::size_t i = 0; i < 4; ++i) any = any || b.may_accept(i);
        BOOST_TEST(any);
    }
}
