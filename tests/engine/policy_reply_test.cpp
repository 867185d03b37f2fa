// policy_reply_test — what the client hears when no next hop passes the TLS
// policy (docs/design.md §6.3; issue 14 item 6, issue 15 'Also', issue 16 item 3):
// outbound a reply-safe, capped summary (one line of at most 512 octets),
// inbound a generic text with the session id and nothing of the upstream.
#include "proxy/engine/upstream_check.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy;

namespace {

engine::upstream_settings settings(bool reject) {
    engine::upstream_settings u;
    u.name = "backend";
    u.hosts = {{"backend.internal.example", 25, {}, nullptr}};
    u.reject_on_policy_failure = reject;
    return u;
}

}  // namespace

BOOST_AUTO_TEST_CASE(outbound_names_the_domain_and_a_safe_capped_reason) {
    const std::string names(2000, 'n');
    const auto r = engine::policy_failure_reply(settings(false), "partner.test",
                                                "certificate check failed: (mx\r\n250 2.1.5 forged) " + names, "sid1");
    BOOST_TEST(r.code == 451);
    BOOST_TEST_REQUIRE(r.lines.size() == 1u);
    const auto wire = r.to_wire();
    BOOST_TEST(wire.size() <= 512u);
    BOOST_TEST(wire.find("\r\n") == wire.size() - 2);
    BOOST_TEST(wire.starts_with("451 4.7.5 TLS policy for partner.test not satisfied, try again later: "
                                "certificate check failed: (mx??250 2.1.5 forged) nnn"));
    BOOST_TEST(wire.ends_with("...\r\n"));
    const auto rejected = engine::policy_failure_reply(settings(true), "partner.test", "why", "sid1");
    BOOST_TEST(rejected.to_wire() == "550 5.7.1 TLS policy for partner.test not satisfied: why\r\n");
}

BOOST_AUTO_TEST_CASE(a_destination_refusal_defers_even_under_reject) {
    // RFC 7672 (DANE): the destination's own requirement failed; the sender keeps the mail.
    const auto r = engine::policy_failure_reply(settings(true), "partner.test", "DANE: no TLSA record matched", "sid1",
                                                true);
    BOOST_TEST(r.to_wire() ==
               "451 4.7.5 TLS policy for partner.test not satisfied, try again later: DANE: no TLSA record matched\r\n");
}

BOOST_AUTO_TEST_CASE(inbound_is_generic_with_the_session_id) {
    const auto r = engine::policy_failure_reply(settings(false), "", "names presented (mail.internal.example)",
                                                "5962a69f5962");
    BOOST_TEST(r.to_wire() ==
               "451 4.7.5 TLS policy of the upstream not satisfied, try again later (session 5962a69f5962)\r\n");
    const auto rejected = engine::policy_failure_reply(settings(true), "", "x", "5962a69f5962");
    BOOST_TEST(rejected.to_wire() == "550 5.7.1 TLS policy of the upstream not satisfied (session 5962a69f5962)\r\n");
}

BOOST_AUTO_TEST_CASE(a_missing_client_certificate_refuses_before_connecting_unless_testing) {
    // Issue 15 item 1: the policy's failure reply, decided before any connection.
    auto u = settings(false);
    BOOST_TEST(!engine::client_certificate_refusal(u, "partner.test", "sid1"));  // none is missing
    u.client_certificate_problem = "no certificate in the store has the clientAuth usage";
    const auto r = engine::client_certificate_refusal(u, "partner.test", "sid1");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->to_wire() ==
               "451 4.7.5 TLS policy for partner.test not satisfied, try again later: no usable client certificate\r\n");
    u.floor.testing = true;  // mode testing: the relay goes on without one
    BOOST_TEST(!engine::client_certificate_refusal(u, "partner.test", "sid1"));
    u.floor.testing = false;
    u.reject_on_policy_failure = true;
    BOOST_TEST(engine::client_certificate_refusal(u, "partner.test", "sid1")->code == 550);
}
