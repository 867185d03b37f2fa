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

BOOST_AUTO_TEST_CASE(dane_requirements_join_the_route) {
    // docs/design.md §6.4: the same hosts under the same policy entry, but
    // one domain's TLSA records demand authentication and the other's MX
    // RRset was insecure: neither a shared transaction nor a reused
    // connection (a connection is authenticated for what it was checked
    // against, nothing more).
    auto secure = decision("a.example", "mx1:25", "default");
    secure.dane_key = "mx1:25=authenticate mx1 3 1 1 ab;";
    auto insecure = decision("b.example", "mx1:25", "default");
    const auto route = transaction_route::of(secure);
    BOOST_TEST(!route.admits(insecure));
    BOOST_TEST(!route.same_next_hops(insecure));
    BOOST_TEST(!transaction_route::of(insecure).same_next_hops(secure));
    // The same requirements (DANE-EE records of a shared provider): shared.
    auto same = decision("c.example", "mx1:25", "default");
    same.dane_key = secure.dane_key;
    BOOST_TEST(route.admits(same));
    BOOST_TEST(route.same_next_hops(same));
    // The same domain always joins its own transaction.
    BOOST_TEST(route.admits(decision("a.example", "mx1:25", "default")));
}

BOOST_AUTO_TEST_CASE(the_dane_key_names_only_what_the_check_depends_on) {
    using dsproxy::dane::dane_action;
    BOOST_TEST(requirement_key(nullptr).empty());
    host_dane_check none;
    BOOST_TEST(requirement_key(&none).empty());
    host_dane_check ee;
    ee.action = dane_action::authenticate;
    ee.facts.base_domain = "mx1.example";
    ee.facts.usable = {{3, 1, 1, {0xab, 0xcd}}};
    ee.facts.reference_names = {"mx1.example", "a.example"};
    auto other_domain = ee;
    other_domain.facts.reference_names = {"mx1.example", "b.example"};
    // DANE-EE: names are not checked (RFC 7672 §3.1.1), so the next-hop domain is no part of it.
    BOOST_TEST(requirement_key(&ee) == "authenticate mx1.example 3 1 1 abcd");
    BOOST_TEST(requirement_key(&ee) == requirement_key(&other_domain));
    // DANE-TA: the leaf must match a reference identifier (§3.2.2), the next-hop domain among them.
    ee.facts.usable.push_back({2, 0, 1, {0x01}});
    other_domain.facts.usable = ee.facts.usable;
    BOOST_TEST(requirement_key(&ee) != requirement_key(&other_domain));
    // A rolled-over record is another requirement.
    auto rolled = ee;
    rolled.facts.usable[0].data = {0xef};
    BOOST_TEST(requirement_key(&ee) != requirement_key(&rolled));
    host_dane_check encrypt;
    encrypt.action = dane_action::encrypt;
    BOOST_TEST(requirement_key(&encrypt) == "encrypt");
}
