// sender_policy_test — docs/design.md §6.2's table as the unit test of judge_sender
// (issue 14 item 3, issue 15 item 6): for each level, what a session without
// TLS, without a client certificate, with a bad chain or wrong names gets,
// per on_failure and mode; min_tls and ciphers on the client's leg.
#include "proxy/engine/sender_policy.hpp"

#include <boost/test/unit_test.hpp>

namespace {

using namespace dsproxy;
using engine::sender_outcome;
using config::tls_level;

config::domain_policy policy(tls_level level, bool reject = false, bool testing = false) {
    config::domain_policy p;
    p.level = level;
    p.on_failure = reject ? config::failure_action::reject : config::failure_action::defer;
    p.mode = testing ? config::policy_mode::testing : config::policy_mode::enforce;
    return p;
}

// A TLS 1.3 session; `names`: the client certificate's dNSNames (none: no certificate).
smtp::tls_facts tls(std::optional<std::vector<std::string>> names = std::nullopt, bool chain_ok = true) {
    smtp::tls_facts t;
    t.protocol = "TLSv1.3";
    t.version = smtp::tls_version::tls1_3;
    t.cipher = "TLS_AES_256_GCM_SHA384";
    if (names) {
        t.client_certificate_presented = true;
        t.dns_names = *names;
        t.chains.push_back({chain_ok, chain_ok ? "" : "certificate chain untrusted: self-signed certificate", chain_ok ? "" : "untrusted"});
        t.client_certificate_verified = chain_ok;
    }
    return t;
}

struct case_ {
    const config::domain_policy& p;
    const smtp::tls_facts* t;
    bool tls_possible = true;
    bool starttls_offered = true;
};

engine::sender_judgement judge(const case_& c, std::string domain = "partner.test") {
    engine::sender_check check;
    check.policy = &c.p;
    check.domain = std::move(domain);
    check.tls = c.t;
    check.tls_possible = c.tls_possible;
    check.starttls_offered = c.starttls_offered;
    return engine::judge_sender(check);
}

// "CODE ENHANCED" of the refusal.
std::string code(const engine::sender_judgement& j) {
    if (!j.reply) return "none";
    return std::to_string(j.reply->code) + " " + (j.reply->status ? j.reply->status->to_string() : "-");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spec_6_2_table)

// domain-secure: STARTTLS offered but not used, or no client certificate:
// 454 4.7.0 with on_failure defer (the sender retries), 530 5.7.1 with reject.
BOOST_AUTO_TEST_CASE(domain_secure_missing_tls_or_certificate_follows_on_failure) {
    const auto defer = policy(tls_level::domain_secure), reject = policy(tls_level::domain_secure, true);
    const auto no_cert = tls();
    BOOST_TEST(code(judge({defer, nullptr})) == "454 4.7.0");
    BOOST_TEST(code(judge({reject, nullptr})) == "530 5.7.1");
    BOOST_TEST(code(judge({defer, &no_cert})) == "454 4.7.0");
    BOOST_TEST(code(judge({reject, &no_cert})) == "530 5.7.1");
    // The text says what was missing.
    BOOST_TEST(judge({defer, &no_cert}).reply->lines.front() ==
               "4.7.0 A client certificate is required for this sender domain");
    BOOST_TEST(judge({defer, &no_cert}).reason == "no client certificate");
    BOOST_TEST(judge({defer, nullptr}).reply->lines.front() == "4.7.0 Must issue a STARTTLS command first");
    BOOST_TEST(judge({defer, nullptr}).reason == "STARTTLS offered but not used");
}

BOOST_AUTO_TEST_CASE(starttls_not_offered_on_the_listener_is_454_4_7_0) {
    for (const bool reject : {false, true}) {
        const auto p = policy(tls_level::domain_secure, reject);
        const auto j = judge({p, nullptr, false, false});
        BOOST_TEST(code(j) == "454 4.7.0");
        BOOST_TEST(j.reason == "TLS required but not available on this listener");
    }
}

BOOST_AUTO_TEST_CASE(chain_or_name_failure_is_454_4_7_5_or_550_5_7_1) {
    const auto defer = policy(tls_level::domain_secure), reject = policy(tls_level::domain_secure, true);
    const auto untrusted = tls(std::vector<std::string>{"mail.partner.test"}, false);
    const auto wrong = tls(std::vector<std::string>{"mail.other.test"});
    BOOST_TEST(code(judge({defer, &untrusted})) == "454 4.7.5");
    BOOST_TEST(code(judge({reject, &untrusted})) == "550 5.7.1");
    BOOST_TEST(code(judge({defer, &wrong})) == "454 4.7.5");
    BOOST_TEST(code(judge({reject, &wrong})) == "550 5.7.1");
    // The log names the reason and the names presented; the metrics the label.
    const auto chain = judge({defer, &untrusted});
    BOOST_TEST(chain.reason == "certificate chain untrusted: self-signed certificate; names presented: mail.partner.test");
    BOOST_TEST(chain.failure_label == "untrusted");
    const auto names = judge({defer, &wrong});
    BOOST_TEST(names.reason.find("matches domain partner.test by the Domain Security rules") != std::string::npos);
    BOOST_TEST(names.reason.ends_with("; names presented: mail.other.test"));
    BOOST_TEST(names.failure_label == "domain name mismatch");
}

BOOST_AUTO_TEST_CASE(a_good_certificate_passes_and_marks_the_message) {
    const auto p = policy(tls_level::domain_secure);
    const auto good = tls(std::vector<std::string>{"mail.partner.test"});
    const auto j = judge({p, &good});
    BOOST_TEST((j.outcome == sender_outcome::passed));
    BOOST_TEST(!j.reply);
    BOOST_TEST(j.domain_secured);
    BOOST_TEST(j.matched_name == "mail.partner.test");
    BOOST_TEST(j.rule == "one-node-deep");
    // Names two nodes deep are never enough (docs/design.md §5).
    const auto deep = tls(std::vector<std::string>{"a.mail.partner.test"});
    BOOST_TEST((judge({p, &deep}).outcome == sender_outcome::refused));
}

// encrypt / validate / domain require TLS (RFC 3207's 530 5.7.0) and, from
// validate up, a verified client chain likewise (per on_failure).
BOOST_AUTO_TEST_CASE(the_lower_levels) {
    const auto encrypt = policy(tls_level::encrypt), validate = policy(tls_level::validate),
               domain = policy(tls_level::domain), validate_reject = policy(tls_level::validate, true);
    const auto no_cert = tls(), untrusted = tls(std::vector<std::string>{"x.test"}, false),
               wrong = tls(std::vector<std::string>{"mail.other.test"});
    for (const auto* p : {&encrypt, &validate, &domain}) {
        BOOST_TEST(code(judge({*p, nullptr})) == "530 5.7.0");
        BOOST_TEST(judge({*p, nullptr}).reason == "STARTTLS offered but not used");
        BOOST_TEST(judge({*p, nullptr, true, false}).reason == "TLS required");  // implicit TLS listener
    }
    BOOST_TEST((judge({encrypt, &no_cert}).outcome == sender_outcome::passed));
    BOOST_TEST(!judge({encrypt, &no_cert}).domain_secured);
    BOOST_TEST(code(judge({validate, &no_cert})) == "454 4.7.0");
    BOOST_TEST(code(judge({validate_reject, &no_cert})) == "530 5.7.1");
    BOOST_TEST(code(judge({validate, &untrusted})) == "454 4.7.5");
    BOOST_TEST(code(judge({validate_reject, &untrusted})) == "550 5.7.1");
    // validate checks no names; domain does.
    BOOST_TEST((judge({validate, &wrong}).outcome == sender_outcome::passed));
    BOOST_TEST(!judge({validate, &wrong}).domain_secured);
    BOOST_TEST(code(judge({domain, &wrong})) == "454 4.7.5");
}

BOOST_AUTO_TEST_CASE(opportunistic_and_none_ask_nothing) {
    for (const auto level : {tls_level::none, tls_level::opportunistic}) {
        const auto p = policy(level);
        const auto j = judge({p, nullptr});
        BOOST_TEST((j.outcome == sender_outcome::passed));
        BOOST_TEST(!j.checked);
    }
}

BOOST_AUTO_TEST_CASE(mode_testing_would_refuse_and_sends_nothing) {
    const auto p = policy(tls_level::domain_secure, false, true);
    const auto j = judge({p, nullptr});
    BOOST_TEST((j.outcome == sender_outcome::would_refuse));
    BOOST_TEST(code(j) == "454 4.7.0");  // what enforce would have answered
    BOOST_TEST(!j.domain_secured);
}

BOOST_AUTO_TEST_CASE(the_policys_own_trust_decides) {
    // chains[1] is the check against the policy's own ca_file.
    const auto p = policy(tls_level::validate);
    auto t = tls(std::vector<std::string>{"mail.partner.test"});
    t.chains.push_back({false, "certificate chain untrusted: unable to get local issuer certificate", "untrusted"});
    engine::sender_check check;
    check.policy = &p;
    check.domain = "partner.test";
    check.tls = &t;
    check.tls_possible = check.starttls_offered = true;
    BOOST_TEST((engine::judge_sender(check).outcome == sender_outcome::passed));
    check.trust = 1;
    BOOST_TEST(code(engine::judge_sender(check)) == "454 4.7.5");
}

BOOST_AUTO_TEST_CASE(min_tls_and_ciphers_bind_the_clients_leg) {
    auto p13 = policy(tls_level::encrypt);
    p13.min_tls = config::tls_version::v1_3;
    auto t12 = tls();
    t12.protocol = "TLSv1.2";
    t12.version = smtp::tls_version::tls1_2;
    t12.cipher = "ECDHE-ECDSA-AES128-GCM-SHA256";
    BOOST_TEST(code(judge({p13, &t12})) == "454 4.7.5");
    BOOST_TEST(judge({p13, &t12}).reason == "TLSv1.2 is below the policy's min_tls 1.3");
    const auto t13 = tls();
    BOOST_TEST((judge({p13, &t13}).outcome == sender_outcome::passed));
    // The policy's cipher list governs TLS 1.2 only.
    const auto reject = policy(tls_level::encrypt, true);
    const std::set<std::string, std::less<>> chacha{"ECDHE-ECDSA-CHACHA20-POLY1305"};
    engine::sender_check check;
    check.policy = &reject;
    check.tls = &t12;
    check.ciphers = &chacha;
    check.tls_possible = check.starttls_offered = true;
    BOOST_TEST(code(engine::judge_sender(check)) == "550 5.7.1");
    BOOST_TEST(engine::judge_sender(check).reason == "cipher ECDHE-ECDSA-AES128-GCM-SHA256 is not in the policy's ciphers");
    check.tls = &t13;
    BOOST_TEST((engine::judge_sender(check).outcome == sender_outcome::passed));
}

BOOST_AUTO_TEST_SUITE_END()
