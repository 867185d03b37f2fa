// outbound_route_test — which recipients share a transaction and when the
// next transaction reuses the connection (docs/design.md §6.3, RFC 5321
// §4.5.3.1.10): the same domain, or the same hosts under the same policy
// entry; anything else is a new transaction.
#include "proxy/engine/outbound_route.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::engine;

namespace {

route_decision decision(std::string domain, std::string route, std::string policy) {
    route_decision d;
    d.domain = std::move(domain);
    d.route_key = std::move(route);
    d.policy_key = std::move(policy);
    return d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_recipient_joins_on_the_same_domain_or_the_same_hops_and_policy) {
    const auto route = transaction_route::of(decision("a.example", "mx1:25 mx2:25", "default"));
    BOOST_TEST(route.admits(decision("a.example", "mx1:25 mx2:25", "default")));
    // Another domain hosted on the same MX hosts under the same policy entry.
    BOOST_TEST(route.admits(decision("b.example", "mx1:25 mx2:25", "default")));
    // One host more or less is another route (routing::route_key: the sorted hosts).
    BOOST_TEST(!route.admits(decision("b.example", "mx1:25 mx2:25 mx3:25", "default")));
    // The same hosts under a stricter policy entry: never relaxed by sharing.
    BOOST_TEST(!route.admits(decision("b.example", "mx1:25 mx2:25", "b.example")));
    BOOST_TEST(!route.admits(decision("c.example", "mx9:25", "default")));
}

BOOST_AUTO_TEST_CASE(the_connection_is_reused_only_for_the_same_hops_and_policy) {
    const auto route = transaction_route::of(decision("a.example", "mx1:25", "partner"));
    BOOST_TEST(route.same_next_hops(decision("b.example", "mx1:25", "partner")));
    BOOST_TEST(!route.same_next_hops(decision("a.example", "mx1:25", "default")));
    BOOST_TEST(!route.same_next_hops(decision("a.example", "mx2:25", "partner")));
    // A session's first transaction has no route yet: nothing matches it.
    BOOST_TEST(!transaction_route{}.same_next_hops(decision("a.example", "mx1:25", "partner")));
}

BOOST_AUTO_TEST_CASE(a_later_recipient_gets_the_routers_refusal_or_452_or_joins) {
    const auto route = transaction_route::of(decision("a.example", "mx1:25", "default"));
    BOOST_TEST(!route.refusal_for(decision("b.example", "mx1:25", "default")));
    const auto elsewhere = route.refusal_for(decision("c.example", "mx9:25", "default"));
    BOOST_REQUIRE(elsewhere);
    BOOST_TEST(elsewhere->code == 452);
    BOOST_TEST(elsewhere->first_line().starts_with("452 4.5.3 "));
    // The router's own refusal wins, even for the transaction's own domain.
    auto refused = decision("a.example", "mx1:25", "default");
    refused.refusal = dsproxy::smtp::make_reply(550, "5.1.2 No such domain");
    const auto r = route.refusal_for(refused);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->code == 550);
}
