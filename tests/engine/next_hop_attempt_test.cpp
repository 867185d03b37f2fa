// next_hop_attempt_test — the next-hop decision without sockets (issue 14):
// the combine() table of the policy sources, fail-over to the next host,
// the opportunistic plain-text retry, policy refusals versus give-up, mode
// testing, and no fail-over once the next hop accepted the transaction.
#include "proxy/engine/next_hop_attempt.hpp"

#include <boost/test/unit_test.hpp>

namespace {

using namespace dsproxy::engine;
using dsproxy::config::tls_level;
using dsproxy::smtp::failure_kind;
using dsproxy::smtp::upstream_failure;
using dsproxy::smtp::upstream_tls;

tls_requirement floor_only(tls_level level, bool testing = false) {
    return combine({level, testing}, destination_requirement::none);
}

upstream_failure failed(failure_kind k) { return {k, std::string(to_string(k))}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(combine_table)

// Every row of the table in next_hop_attempt.hpp: floor level, floor mode,
// what the destination publishes -> STARTTLS, enforcement per source, and
// whether a plain connection is reported.
BOOST_AUTO_TEST_CASE(the_table) {
    using D = destination_requirement;
    struct row {
        tls_level level;
        bool testing;
        D published;
        upstream_tls starttls;
        bool enforce_floor, enforce_destination, tls_expected;
    };
    const row rows[] = {
        // The YAML floor alone (today's every destination).
        {tls_level::none, false, D::none, upstream_tls::none, true, false, false},
        {tls_level::opportunistic, false, D::none, upstream_tls::opportunistic, true, false, false},
        {tls_level::encrypt, false, D::none, upstream_tls::required, true, false, true},
        {tls_level::validate, false, D::none, upstream_tls::required, true, false, true},
        {tls_level::domain, false, D::none, upstream_tls::required, true, false, true},
        {tls_level::domain_secure, false, D::none, upstream_tls::required, true, false, true},
        // mode testing: relayed as opportunistic, the checks only reported.
        {tls_level::opportunistic, true, D::none, upstream_tls::opportunistic, false, false, false},
        {tls_level::encrypt, true, D::none, upstream_tls::opportunistic, false, false, true},
        {tls_level::domain_secure, true, D::none, upstream_tls::opportunistic, false, false, true},
        // A destination that publishes in report-only mode: TLS is expected, never required.
        {tls_level::opportunistic, false, D::testing, upstream_tls::opportunistic, true, false, true},
        {tls_level::domain, false, D::testing, upstream_tls::required, true, false, true},
        {tls_level::domain, true, D::testing, upstream_tls::opportunistic, false, false, true},
        // A destination that enforces: STARTTLS required whatever the floor, its checks refuse.
        {tls_level::opportunistic, false, D::enforce, upstream_tls::required, true, true, true},
        {tls_level::encrypt, true, D::enforce, upstream_tls::required, false, true, true},
        {tls_level::domain_secure, false, D::enforce, upstream_tls::required, true, true, true},
        // docs/design.md §6.4: the YAML level is a floor nothing published lowers, and a
        // published policy that applies is never plain text, whatever the floor.
        {tls_level::none, false, D::enforce, upstream_tls::required, true, true, true},
        {tls_level::none, false, D::testing, upstream_tls::opportunistic, true, false, true},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(dsproxy::config::to_name(r.level) << (r.testing ? " testing" : "") << " published "
                                                            << to_string(r.published)) {
            const auto got = combine({r.level, r.testing}, r.published);
            BOOST_TEST((got.starttls == r.starttls));
            BOOST_TEST(got.enforce_floor == r.enforce_floor);
            BOOST_TEST(got.enforce_destination == r.enforce_destination);
            BOOST_TEST(got.tls_expected == r.tls_expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(level_names_say_testing) {
    BOOST_TEST(level_name({tls_level::domain, false}) == "domain");
    BOOST_TEST(level_name({tls_level::domain_secure, true}) == "domain-secure (testing)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fail_over)

BOOST_AUTO_TEST_CASE(connect_failures_walk_the_route_then_give_up) {
    next_hop_attempt a(floor_only(tls_level::encrypt), 3);
    BOOST_TEST(a.host() == 0u);
    auto d = a.on_failure(failed(failure_kind::connect));
    BOOST_TEST((d.step == next_step::next_host));
    BOOST_TEST(d.host == 1u);
    BOOST_TEST(!d.policy);
    d = a.on_failure(failed(failure_kind::timeout));
    BOOST_TEST((d.step == next_step::next_host));
    BOOST_TEST(d.host == 2u);
    d = a.on_failure(failed(failure_kind::greeting));
    BOOST_TEST((d.step == next_step::give_up));
    BOOST_TEST(!a.policy_failure());
}

BOOST_AUTO_TEST_CASE(required_tls_failures_are_policy_refusals_on_the_last_host) {
    for (const auto k : {failure_kind::starttls_missing, failure_kind::starttls_refused, failure_kind::handshake,
                         failure_kind::certificate}) {
        BOOST_TEST_CONTEXT(to_string(k)) {
            next_hop_attempt a(floor_only(tls_level::domain), 2);
            auto d = a.on_failure(failed(k));
            BOOST_TEST((d.step == next_step::next_host));
            BOOST_TEST(d.policy);
            d = a.on_failure(failed(k));
            BOOST_TEST((d.step == next_step::policy_refusal));
            BOOST_TEST_REQUIRE(a.policy_failure().has_value());
            BOOST_TEST((a.policy_failure()->kind == k));
        }
    }
}

BOOST_AUTO_TEST_CASE(other_failures_under_required_tls_are_not_the_policys) {
    for (const auto k : {failure_kind::connect, failure_kind::greeting, failure_kind::protocol, failure_kind::closed,
                         failure_kind::timeout}) {
        BOOST_TEST_CONTEXT(to_string(k)) {
            next_hop_attempt a(floor_only(tls_level::encrypt), 1);
            const auto d = a.on_failure(failed(k));
            BOOST_TEST((d.step == next_step::give_up));
            BOOST_TEST(!d.policy);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_policy_failure_on_one_host_outlives_an_unreachable_next_one) {
    // docs/design.md §6.3: the route is refused by the policy when any host was, not
    // "unreachable" because the last one was down.
    next_hop_attempt a(floor_only(tls_level::domain), 2);
    BOOST_TEST((a.on_failure({failure_kind::certificate, "names"}).step == next_step::next_host));
    const auto d = a.on_failure(failed(failure_kind::connect));
    BOOST_TEST((d.step == next_step::policy_refusal));
    BOOST_TEST(a.policy_failure()->text == "names");
}

BOOST_AUTO_TEST_CASE(a_reused_connection_fails_over_from_its_own_host) {
    next_hop_attempt a(floor_only(tls_level::opportunistic), 3, 1);
    BOOST_TEST(a.host() == 1u);
    const auto d = a.on_failure(failed(failure_kind::closed));
    BOOST_TEST((d.step == next_step::next_host));
    BOOST_TEST(d.host == 2u);
    BOOST_TEST((a.on_failure(failed(failure_kind::closed)).step == next_step::give_up));
}

BOOST_AUTO_TEST_CASE(no_fail_over_once_the_next_hop_accepted) {
    next_hop_attempt a(floor_only(tls_level::domain), 3);
    BOOST_TEST((a.on_ready(true).step == next_step::proceed));
    BOOST_TEST(a.done());
    const auto d = a.on_failure(failed(failure_kind::closed));
    BOOST_TEST((d.step == next_step::give_up));
    BOOST_TEST(a.host() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(plain_text_retry)

BOOST_AUTO_TEST_CASE(opportunistic_retries_a_failed_handshake_once_in_plain_text) {
    next_hop_attempt a(floor_only(tls_level::opportunistic), 2);
    BOOST_TEST((a.starttls() == upstream_tls::opportunistic));
    auto d = a.on_failure(failed(failure_kind::handshake));
    BOOST_TEST((d.step == next_step::plain_retry));
    BOOST_TEST(d.host == 0u);
    BOOST_TEST(a.plain());
    BOOST_TEST((a.starttls() == upstream_tls::none));
    // The plain connection fails too: the next host, with STARTTLS again.
    d = a.on_failure(failed(failure_kind::closed));
    BOOST_TEST((d.step == next_step::next_host));
    BOOST_TEST(!a.plain());
    BOOST_TEST((a.starttls() == upstream_tls::opportunistic));
    BOOST_TEST(!a.policy_failure());
}

BOOST_AUTO_TEST_CASE(mode_testing_retries_in_plain_text_and_reports_it) {
    next_hop_attempt a(floor_only(tls_level::domain_secure, true), 1);
    BOOST_TEST((a.on_failure(failed(failure_kind::handshake)).step == next_step::plain_retry));
    const auto d = a.on_ready(false);
    BOOST_TEST((d.step == next_step::proceed));
    BOOST_TEST((d.would_refuse == failure_kind::starttls_missing));
}

BOOST_AUTO_TEST_CASE(from_encrypt_up_a_failed_handshake_is_never_a_reason_for_plain_text) {
    next_hop_attempt a(floor_only(tls_level::encrypt), 1);
    const auto d = a.on_failure(failed(failure_kind::handshake));
    BOOST_TEST((d.step == next_step::policy_refusal));
    BOOST_TEST(!a.plain());
}

BOOST_AUTO_TEST_CASE(a_destination_that_enforces_forbids_the_plain_retry) {
    next_hop_attempt a(combine({tls_level::opportunistic, false}, destination_requirement::enforce), 1);
    BOOST_TEST((a.starttls() == upstream_tls::required));
    BOOST_TEST((a.on_failure(failed(failure_kind::handshake)).step == next_step::policy_refusal));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(verdicts)

BOOST_AUTO_TEST_CASE(a_passed_verdict_proceeds) {
    next_hop_attempt a(floor_only(tls_level::domain), 2);
    const auto d = a.on_verdict({true, true}, "");
    BOOST_TEST((d.step == next_step::proceed));
    BOOST_TEST(!d.would_refuse);
    BOOST_TEST(!a.on_ready(true).would_refuse);
}

BOOST_AUTO_TEST_CASE(an_enforced_failed_verdict_moves_on_and_refuses_at_the_end) {
    next_hop_attempt a(floor_only(tls_level::validate), 2);
    auto d = a.on_verdict({false, true}, "certificate check failed: untrusted");
    BOOST_TEST((d.step == next_step::next_host));
    BOOST_TEST(d.policy);
    d = a.on_verdict({false, true}, "certificate check failed: expired");
    BOOST_TEST((d.step == next_step::policy_refusal));
    BOOST_TEST(a.policy_failure()->text == "certificate check failed: expired");
}

BOOST_AUTO_TEST_CASE(mode_testing_uses_a_failed_host_and_says_so) {
    next_hop_attempt a(floor_only(tls_level::domain, true), 2);
    auto d = a.on_verdict({false, true}, "names");
    BOOST_TEST((d.step == next_step::proceed));
    BOOST_TEST((d.would_refuse == failure_kind::certificate));
    d = a.on_ready(true);
    BOOST_TEST((d.would_refuse == failure_kind::certificate));
}

BOOST_AUTO_TEST_CASE(each_source_refuses_only_what_it_enforces) {
    // YAML floor in testing, destination enforcing: the destination's failed
    // check refuses, the floor's alone is only reported.
    const auto req = combine({tls_level::domain, true}, destination_requirement::enforce);
    next_hop_attempt floor_fails(req, 1);
    BOOST_TEST((floor_fails.on_verdict({false, true}, "names").step == next_step::proceed));
    next_hop_attempt destination_fails(req, 1);
    BOOST_TEST((destination_fails.on_verdict({true, false}, "tlsa").step == next_step::policy_refusal));
    // A destination in report-only mode never refuses.
    next_hop_attempt reported(combine({tls_level::opportunistic, false}, destination_requirement::testing), 1);
    const auto d = reported.on_verdict({true, false}, "tlsa");
    BOOST_TEST((d.step == next_step::proceed));
    BOOST_TEST((d.would_refuse == failure_kind::certificate));
}

BOOST_AUTO_TEST_CASE(plain_text_below_encrypt_is_no_would_refuse) {
    next_hop_attempt a(floor_only(tls_level::opportunistic), 1);
    BOOST_TEST(!a.on_ready(false).would_refuse);
    next_hop_attempt none(floor_only(tls_level::none), 1);
    BOOST_TEST((none.starttls() == upstream_tls::none));
    BOOST_TEST(!none.on_ready(false).would_refuse);
}

BOOST_AUTO_TEST_SUITE_END()

// DANE publishes per host (docs/design.md §6.4): one host with usable TLSA
// records enforces, the next may publish nothing.
BOOST_AUTO_TEST_SUITE(per_host_requirements)

using D = destination_requirement;

BOOST_AUTO_TEST_CASE(each_host_has_its_own_requirement) {
    next_hop_attempt a({tls_level::opportunistic, false}, {D::enforce, D::none});
    BOOST_TEST((a.starttls() == upstream_tls::required));
    // The DANE host without STARTTLS: refused (never plain text), on to the next.
    auto d = a.on_failure(failed(failure_kind::starttls_missing));
    BOOST_TEST((d.step == next_step::next_host));
    BOOST_TEST(d.policy);
    BOOST_TEST((a.starttls() == upstream_tls::opportunistic));
    // The second host is opportunistic again: a failed handshake retries in plain text.
    d = a.on_failure(failed(failure_kind::handshake));
    BOOST_TEST((d.step == next_step::plain_retry));
}

BOOST_AUTO_TEST_CASE(a_dane_mismatch_moves_on_and_defers_at_the_end) {
    next_hop_attempt a({tls_level::opportunistic, false}, {D::enforce, D::enforce});
    auto d = a.on_verdict({true, false}, "no TLSA record matched");
    BOOST_TEST((d.step == next_step::next_host));
    BOOST_TEST(a.destination_refused());
    d = a.on_verdict({true, false}, "no TLSA record matched");
    BOOST_TEST((d.step == next_step::policy_refusal));
    BOOST_TEST(a.policy_failure()->text == "no TLSA record matched");
}

BOOST_AUTO_TEST_CASE(a_dane_match_on_the_second_host_delivers) {
    next_hop_attempt a({tls_level::opportunistic, false}, {D::enforce, D::enforce});
    BOOST_TEST((a.on_verdict({true, false}, "mismatch").step == next_step::next_host));
    BOOST_TEST((a.on_verdict({true, true}, "").step == next_step::proceed));
    BOOST_TEST(!a.on_ready(true).would_refuse);
}

BOOST_AUTO_TEST_CASE(a_host_refused_before_connecting) {
    next_hop_attempt a({tls_level::opportunistic, false}, {D::enforce, D::none});
    auto d = a.on_refused("TLSA lookup failed: bogus");
    BOOST_TEST((d.step == next_step::next_host));
    BOOST_TEST(d.host == 1u);
    BOOST_TEST(a.destination_refused());
    BOOST_TEST(a.refused_before_connecting());
    // The next host is reachable: the refusal does not outlive a delivery.
    BOOST_TEST((a.on_ready(false).step == next_step::proceed));

    next_hop_attempt only({tls_level::opportunistic, false}, {D::enforce});
    d = only.on_refused("TLSA lookup failed: servfail");
    BOOST_TEST((d.step == next_step::policy_refusal));
    BOOST_TEST(only.policy_failure()->text == "TLSA lookup failed: servfail");
    BOOST_TEST(only.refused_before_connecting());

    // A host that fails once connected is not refused before connecting.
    next_hop_attempt connected({tls_level::opportunistic, false}, {D::enforce});
    BOOST_TEST((connected.on_verdict({true, false}, "no TLSA record matched").step == next_step::policy_refusal));
    BOOST_TEST(!connected.refused_before_connecting());
}

BOOST_AUTO_TEST_CASE(the_floors_own_failure_is_not_the_destinations) {
    // A domain-secure partner that also publishes TLSA: both checks must
    // pass; the floor's failure keeps the floor's on_failure (maybe 5xx).
    next_hop_attempt floor_fails({tls_level::domain_secure, false}, {D::enforce});
    BOOST_TEST((floor_fails.on_verdict({false, true}, "names").step == next_step::policy_refusal));
    BOOST_TEST(!floor_fails.destination_refused());
    next_hop_attempt dane_fails({tls_level::domain_secure, false}, {D::enforce});
    BOOST_TEST((dane_fails.on_verdict({true, false}, "tlsa").step == next_step::policy_refusal));
    BOOST_TEST(dane_fails.destination_refused());
    // STARTTLS missing where the floor itself requires TLS: the floor's failure.
    next_hop_attempt encrypt({tls_level::encrypt, false}, {D::enforce});
    BOOST_TEST((encrypt.on_failure(failed(failure_kind::starttls_missing)).step == next_step::policy_refusal));
    BOOST_TEST(!encrypt.destination_refused());
    next_hop_attempt dane_only({tls_level::opportunistic, false}, {D::enforce});
    BOOST_TEST((dane_only.on_failure(failed(failure_kind::starttls_missing)).step == next_step::policy_refusal));
    BOOST_TEST(dane_only.destination_refused());
}

BOOST_AUTO_TEST_SUITE_END()
