// tlsa_lookup_test — the RFC 7672 §2.2 table for one host: when TLSA is
// looked up and at which names, what each DNSSEC outcome means, and the
// mode/action/outcome table of docs/design.md §6.4, fed answers by hand.
#include "proxy/dane/tlsa_lookup.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

namespace d = dsproxy::dane;
namespace r = dsproxy::routing;
using dsproxy::config::dane_mode;
using bytes = std::vector<unsigned char>;

namespace {

r::next_hop secure_hop(std::string host = "mx.example.com") {
    r::next_hop h;
    h.host = std::move(host);
    h.port = 25;
    h.origin = r::hop_origin::mx;
    h.name_secure = true;
    h.addresses_secure = true;
    return h;
}

r::rdata_answer answer(r::dns_status status, bool secure, std::vector<bytes> rdata = {}) {
    r::rdata_answer a;
    a.status = status;
    a.secure = secure;
    a.rdata = std::move(rdata);
    return a;
}

bytes ee_311() {
    bytes b{3, 1, 1};
    b.resize(3 + 32, 0x42);
    return b;
}
bytes pkix_001() {
    bytes b{0, 0, 1};
    b.resize(3 + 32, 0x17);
    return b;
}

// Runs the machine to the end with `answers`, one per query, and checks
// the names asked.
d::host_dane run(dane_mode mode, const r::next_hop& hop, const std::vector<r::rdata_answer>& answers,
                 std::vector<std::string>* asked = nullptr) {
    d::tlsa_lookup l(mode, hop, "example.com");
    std::size_t i = 0;
    while (auto name = l.next_query()) {
        BOOST_TEST_REQUIRE(i < answers.size());
        if (asked) asked->push_back(*name);
        l.on_answer(answers[i++]);
    }
    BOOST_TEST(i == answers.size());
    return l.result();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tlsa_lookup)

BOOST_AUTO_TEST_CASE(owner_name_carries_the_port) {
    BOOST_TEST(d::tlsa_owner(25, "mx.example.com") == "_25._tcp.mx.example.com");
    BOOST_TEST(d::tlsa_owner(2525, "mx.example.com") == "_2525._tcp.mx.example.com");
}

BOOST_AUTO_TEST_CASE(no_lookup_when_dane_cannot_apply) {
    BOOST_TEST(run(dane_mode::none, secure_hop(), {}).skipped == d::skip_reason::mode_none);
    auto insecure_mx = secure_hop();
    insecure_mx.name_secure = false;
    BOOST_TEST(run(dane_mode::opportunistic, insecure_mx, {}).skipped == d::skip_reason::mx_insecure);
    auto insecure_a = secure_hop();
    insecure_a.addresses_secure = false;
    BOOST_TEST(run(dane_mode::opportunistic, insecure_a, {}).skipped == d::skip_reason::address_insecure);
    auto literal = secure_hop("192.0.2.1");
    literal.origin = r::hop_origin::address_literal;
    BOOST_TEST(run(dane_mode::mandatory, literal, {}).skipped == d::skip_reason::address_literal);
    auto static_literal = secure_hop("2001:db8::1");
    static_literal.origin = r::hop_origin::static_route;
    BOOST_TEST(run(dane_mode::opportunistic, static_literal, {}).skipped == d::skip_reason::address_literal);
    for (const auto& h : {insecure_mx, insecure_a, literal})
        BOOST_TEST(run(dane_mode::opportunistic, h, {}).state == d::dane_state::not_applicable);
}

BOOST_AUTO_TEST_CASE(usable_record_requires_authentication) {
    std::vector<std::string> asked;
    const auto h = run(dane_mode::opportunistic, secure_hop(), {answer(r::dns_status::ok, true, {ee_311(), pkix_001()})},
                       &asked);
    BOOST_TEST(asked == (std::vector<std::string>{"_25._tcp.mx.example.com"}), boost::test_tools::per_element());
    BOOST_TEST(h.state == d::dane_state::usable);
    BOOST_TEST(h.usable.size() == 1u);
    BOOST_TEST(h.unusable.size() == 1u);  // the PKIX record is ignored
    BOOST_TEST(h.base_domain == "mx.example.com");
    BOOST_TEST(h.reference_names == (std::vector<std::string>{"mx.example.com", "example.com"}),
               boost::test_tools::per_element());
    BOOST_TEST(d::action_of(dane_mode::opportunistic, h) == d::dane_action::authenticate);
    BOOST_TEST(d::action_of(dane_mode::mandatory, h) == d::dane_action::authenticate);
}

BOOST_AUTO_TEST_CASE(several_usable_records_are_all_kept) {
    bytes other = ee_311();
    other.back() = 0x43;
    bytes ta{2, 0, 1};
    ta.resize(35, 1);
    const auto h = run(dane_mode::opportunistic, secure_hop(), {answer(r::dns_status::ok, true, {ee_311(), other, ta})});
    BOOST_TEST(h.usable.size() == 3u);  // rollover: any of them may match
}

BOOST_AUTO_TEST_CASE(only_unusable_records_mean_tls_without_authentication) {
    bytes bad_digest{3, 1, 1, 0x01, 0x02};
    const auto h = run(dane_mode::opportunistic, secure_hop(),
                       {answer(r::dns_status::ok, true, {pkix_001(), bad_digest, bytes{3, 1}})});
    BOOST_TEST(h.state == d::dane_state::unusable);
    BOOST_TEST(h.unusable.size() == 2u);
    BOOST_TEST(h.malformed == 1u);
    BOOST_TEST(d::action_of(dane_mode::opportunistic, h) == d::dane_action::encrypt);
    BOOST_TEST(d::action_of(dane_mode::mandatory, h) == d::dane_action::refuse_host);
}

BOOST_AUTO_TEST_CASE(insecure_or_absent_tlsa_leaves_the_yaml_policy) {
    const auto insecure = run(dane_mode::opportunistic, secure_hop(), {answer(r::dns_status::ok, false, {ee_311()})});
    BOOST_TEST(insecure.state == d::dane_state::not_applicable);
    BOOST_TEST(insecure.skipped == d::skip_reason::tlsa_insecure);
    BOOST_TEST(insecure.usable.empty());  // insecure records are never used
    for (auto status : {r::dns_status::nxdomain, r::dns_status::nodata}) {
        const auto none = run(dane_mode::opportunistic, secure_hop(), {answer(status, true)});
        BOOST_TEST(none.skipped == d::skip_reason::no_tlsa);
        BOOST_TEST(d::action_of(dane_mode::opportunistic, none) == d::dane_action::none);
        BOOST_TEST(d::action_of(dane_mode::mandatory, none) == d::dane_action::refuse_host);
    }
    const auto insecure_denial = run(dane_mode::opportunistic, secure_hop(), {answer(r::dns_status::nxdomain, false)});
    BOOST_TEST(insecure_denial.skipped == d::skip_reason::tlsa_insecure);
}

BOOST_AUTO_TEST_CASE(bogus_or_failed_lookup_refuses_the_host) {
    for (auto status : {r::dns_status::bogus, r::dns_status::servfail, r::dns_status::timeout,
                        r::dns_status::refused, r::dns_status::malformed, r::dns_status::failure}) {
        auto a = answer(status, false);
        a.why_bogus = status == r::dns_status::bogus ? "signature expired" : "";
        const auto h = run(dane_mode::opportunistic, secure_hop(), {a});
        BOOST_TEST(h.state == d::dane_state::lookup_failed);
        BOOST_TEST(h.lookup_status == status);
        BOOST_TEST(h.why_bogus == a.why_bogus);
        BOOST_TEST(d::action_of(dane_mode::opportunistic, h) == d::dane_action::refuse_host);
    }
}

BOOST_AUTO_TEST_CASE(secure_alias_tries_the_expanded_name_then_the_host_name) {
    auto hop = secure_hop("mail.example.com");
    hop.canonical = "mx.provider.net";
    std::vector<std::string> asked;
    const auto h = run(dane_mode::opportunistic, hop,
                       {answer(r::dns_status::nodata, true), answer(r::dns_status::ok, true, {ee_311()})}, &asked);
    BOOST_TEST(asked == (std::vector<std::string>{"_25._tcp.mx.provider.net", "_25._tcp.mail.example.com"}),
               boost::test_tools::per_element());
    BOOST_TEST(h.state == d::dane_state::usable);
    BOOST_TEST(h.base_domain == "mail.example.com");

    asked.clear();
    const auto first = run(dane_mode::opportunistic, hop, {answer(r::dns_status::ok, true, {ee_311()})}, &asked);
    BOOST_TEST(asked.size() == 1u);
    BOOST_TEST(first.base_domain == "mx.provider.net");
    // RFC 7672 §3.2.2: the base domain first (the SNI), then the MX host, then the domain.
    BOOST_TEST(first.reference_names ==
                   (std::vector<std::string>{"mx.provider.net", "mail.example.com", "example.com"}),
               boost::test_tools::per_element());

    const auto failed = run(dane_mode::opportunistic, hop, {answer(r::dns_status::servfail, false)});
    BOOST_TEST(failed.state == d::dane_state::lookup_failed);  // no second try after a failure
}

// The name asked alongside the address lookup is one the machine asks
// later, and only where a lookup can happen whatever the addresses say.
BOOST_AUTO_TEST_CASE(early_owner_before_the_address_records) {
    auto hop = secure_hop();
    hop.addresses_secure = false;  // not known yet when the early query leaves
    BOOST_TEST(d::early_tlsa_owner(dane_mode::opportunistic, hop).value_or("") == "_25._tcp.mx.example.com");
    BOOST_TEST(d::early_tlsa_owner(dane_mode::mandatory, hop).value_or("") == "_25._tcp.mx.example.com");
    hop.port = 2525;
    BOOST_TEST(d::early_tlsa_owner(dane_mode::opportunistic, hop).value_or("") == "_2525._tcp.mx.example.com");
    BOOST_TEST(!d::early_tlsa_owner(dane_mode::none, secure_hop()).has_value());
    auto insecure_mx = secure_hop();
    insecure_mx.name_secure = false;
    BOOST_TEST(!d::early_tlsa_owner(dane_mode::opportunistic, insecure_mx).has_value());
    auto literal = secure_hop("192.0.2.1");
    literal.origin = r::hop_origin::address_literal;
    BOOST_TEST(!d::early_tlsa_owner(dane_mode::mandatory, literal).has_value());
    auto static_literal = secure_hop("2001:db8::1");
    static_literal.origin = r::hop_origin::static_route;
    BOOST_TEST(!d::early_tlsa_owner(dane_mode::opportunistic, static_literal).has_value());

    // Once the addresses are known: the machine's first question for a plain
    // host, its second (after the expanded name) for an alias.
    std::vector<std::string> asked;
    run(dane_mode::opportunistic, secure_hop(), {answer(r::dns_status::ok, true, {ee_311()})}, &asked);
    BOOST_TEST(asked.front() == *d::early_tlsa_owner(dane_mode::opportunistic, secure_hop()));
    auto alias = secure_hop("mail.example.com");
    alias.canonical = "mx.provider.net";
    asked.clear();
    run(dane_mode::opportunistic, alias, {answer(r::dns_status::nodata, true), answer(r::dns_status::nodata, true)},
        &asked);
    BOOST_TEST_REQUIRE(asked.size() == 2u);
    BOOST_TEST(asked[1] == *d::early_tlsa_owner(dane_mode::opportunistic, alias));
}

BOOST_AUTO_TEST_CASE(late_answers_are_ignored) {
    d::tlsa_lookup l(dane_mode::opportunistic, secure_hop(), "example.com");
    l.on_answer(answer(r::dns_status::ok, true, {ee_311()}));
    BOOST_TEST(!l.next_query().has_value());
    l.on_answer(answer(r::dns_status::bogus, false));
    BOOST_TEST(l.result().state == d::dane_state::usable);
}

BOOST_AUTO_TEST_CASE(outcome_table) {
    using d::dane_action;
    using d::dane_outcome;
    BOOST_TEST(d::outcome_of(dane_action::none, false, false) == dane_outcome::not_applicable);
    BOOST_TEST(d::outcome_of(dane_action::none, true, false) == dane_outcome::not_applicable);
    BOOST_TEST(d::outcome_of(dane_action::authenticate, true, true) == dane_outcome::authenticated);
    BOOST_TEST(d::outcome_of(dane_action::authenticate, true, false) == dane_outcome::failed);
    BOOST_TEST(d::outcome_of(dane_action::authenticate, false, false) == dane_outcome::failed);
    BOOST_TEST(d::outcome_of(dane_action::encrypt, true, false) == dane_outcome::unauthenticated_required);
    BOOST_TEST(d::outcome_of(dane_action::encrypt, false, false) == dane_outcome::failed);
    BOOST_TEST(d::outcome_of(dane_action::refuse_host, false, false) == dane_outcome::failed);
    BOOST_TEST(d::to_string(dane_outcome::unauthenticated_required) == "unauthenticated-required");
    BOOST_TEST(d::to_string(dane_outcome::not_applicable) == "not-applicable");
}

BOOST_AUTO_TEST_SUITE_END()
