// verification_test — every verdict of peer_verification (docs/design.md §3, §5, §6.1).
#include "test_pki.hpp"

#include "tls/peer_verification.hpp"
#include "tls/trust_store.hpp"

#include <openssl/pem.h>

#include <cstdio>
#include <filesystem>

#include <boost/test/unit_test.hpp>

using namespace dsproxy::tls;
using namespace dsproxy::tls::test;
using dsproxy::matching::reference_name;
using dsproxy::matching::rule;

namespace {

struct fixture {
    pki ca;
    trust_store trust = trust_store::from({ca.root.cert.get()});

    static leaf_options named(std::vector<std::string> dns, long nb = -day, long na = 365 * day) {
        leaf_options o;
        o.cn = "peer";
        o.dns = std::move(dns);
        o.not_before = nb;
        o.not_after = na;
        return o;
    }
    verification_result check(const issued& leaf, const trust_store& t, verify_request r = {},
                              bool with_chain = true) const {
        x509_stack_ptr chain(sk_X509_new_null());
        if (with_chain) {
            X509_up_ref(ca.intermediate.cert.get());
            sk_X509_push(chain.get(), ca.intermediate.cert.get());
        }
        return verify_peer(leaf.cert.get(), chain.get(), t, r);
    }
    static verify_request domain(const char* d) {
        verify_request r;
        r.domain = reference_name::parse(d);
        return r;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(verification, fixture)

BOOST_AUTO_TEST_CASE(valid_chain_passes_validate) {
    const auto r = check(ca.leaf(named({"mail.contoso.com"})), trust);
    BOOST_TEST(r.passed);
    BOOST_TEST(r.chain == chain_verdict::ok);
    BOOST_TEST(r.sha256.size() == 64u);
    BOOST_TEST(r.issuer.find("intermediate") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_certificate) {
    auto r = verify_peer(nullptr, nullptr, trust, {});
    BOOST_TEST(!r.passed);
    BOOST_TEST(r.chain == chain_verdict::no_certificate);
    verify_request none;
    none.check_chain = false;
    BOOST_TEST(verify_peer(nullptr, nullptr, trust, none).passed);
}

BOOST_AUTO_TEST_CASE(untrusted_self_signed_and_missing_intermediate) {
    auto r = check(ca.self_signed(named({"mail.contoso.com"})), trust, {}, false);
    BOOST_TEST(!r.passed);
    BOOST_TEST(r.chain == chain_verdict::untrusted);
    BOOST_TEST(r.reason.find("untrusted") != std::string::npos);
    r = check(ca.leaf(named({"mail.contoso.com"})), trust, {}, false);
    BOOST_TEST(r.chain == chain_verdict::untrusted);
    pki other;
    r = check(ca.leaf(named({"mail.contoso.com"})), trust_store::from({other.root.cert.get()}));
    BOOST_TEST(r.chain == chain_verdict::untrusted);
}

BOOST_AUTO_TEST_CASE(expired_and_not_yet_valid) {
    auto r = check(ca.leaf(named({"mail.contoso.com"}, -400 * day, -day)), trust);
    BOOST_TEST(!r.passed);
    BOOST_TEST(r.chain == chain_verdict::expired);
    r = check(ca.leaf(named({"mail.contoso.com"}, 2 * day, 400 * day)), trust);
    BOOST_TEST(r.chain == chain_verdict::not_yet_valid);
    verify_request later;
    later.at = std::time(nullptr) + 3 * day;
    BOOST_TEST(check(ca.leaf(named({"m.contoso.com"}, 2 * day, 400 * day)), trust, later).passed);
}

BOOST_AUTO_TEST_CASE(revoked_by_crl_and_others_pass) {
    const auto bad = ca.leaf(named({"mail.contoso.com"}));
    const auto good = ca.leaf(named({"mail.contoso.com"}));
    auto crl = ca.crl({bad.cert.get()});
    const auto with_crl = trust_store::from({ca.root.cert.get()}, {crl.get()});
    BOOST_TEST(with_crl.has_crls());
    auto r = check(bad, with_crl);
    BOOST_TEST(!r.passed);
    BOOST_TEST(r.chain == chain_verdict::revoked);
    BOOST_TEST(check(good, with_crl).passed);
    BOOST_TEST(check(bad, trust).passed);  // no CRL configured: no revocation check
}

BOOST_AUTO_TEST_CASE(crl_missing_and_expired) {
    const auto leaf = ca.leaf(named({"mail.contoso.com"}));
    auto root_crl = ca.crl({}, 7 * day, /*by_root=*/true);
    auto r = check(leaf, trust_store::from({ca.root.cert.get()}, {root_crl.get()}));
    BOOST_TEST(r.chain == chain_verdict::crl_missing);
    auto stale = ca.crl({}, -day / 2);
    r = check(leaf, trust_store::from({ca.root.cert.get()}, {stale.get()}));
    BOOST_TEST(r.chain == chain_verdict::crl_expired);
    verify_request all;
    all.crl_check_all = true;
    auto inter_crl = ca.crl({});
    r = check(leaf, trust_store::from({ca.root.cert.get()}, {inter_crl.get()}), all);
    BOOST_TEST(r.chain == chain_verdict::crl_missing);  // the root's CRL for the intermediate is missing
    r = check(leaf, trust_store::from({ca.root.cert.get()}, {inter_crl.get(), root_crl.get()}), all);
    BOOST_TEST(r.passed);
}

BOOST_AUTO_TEST_CASE(bad_signature) {
    // Names the intermediate as issuer, but signed by another key.
    auto forger = ec_key();
    const auto forged = sign(named({"mail.contoso.com"}), nullptr, ca.intermediate.cert.get(), forger.get(), false);
    const auto r = check(forged, trust);
    BOOST_TEST(!r.passed);
    BOOST_TEST(r.chain == chain_verdict::bad_signature);
}

BOOST_AUTO_TEST_CASE(every_problem_is_collected) {
    const auto bad = ca.leaf(named({"mail.contoso.com"}, -400 * day, -day));
    auto crl = ca.crl({bad.cert.get()});
    const auto r = check(bad, trust_store::from({ca.root.cert.get()}, {crl.get()}));
    BOOST_TEST(r.problems.size() >= 2u);
    bool expired = false, revoked = false;
    for (const auto& p : r.problems) {
        expired |= p.verdict == chain_verdict::expired;
        revoked |= p.verdict == chain_verdict::revoked;
    }
    BOOST_TEST(expired);
    BOOST_TEST(revoked);
}

BOOST_AUTO_TEST_CASE(domain_rules_name_the_match_and_rule) {
    auto r = check(ca.leaf(named({"fabrikam.com", "mail.contoso.com"})), trust, domain("contoso.com"));
    BOOST_TEST(r.passed);
    BOOST_REQUIRE(r.domain_match);
    BOOST_TEST(r.domain_match->matched_name == "mail.contoso.com");
    BOOST_TEST((r.domain_match->how == rule::one_node_deep));
    r = check(ca.leaf(named({"*.contoso.com"})), trust, domain("contoso.com"));
    BOOST_TEST((r.domain_match->how == rule::wildcard));
}

BOOST_AUTO_TEST_CASE(domain_mismatch_lists_the_presented_names) {
    const auto r = check(ca.leaf(named({"mail.us.contoso.com", "fabrikam.com"})), trust, domain("contoso.com"));
    BOOST_TEST(!r.passed);
    BOOST_TEST(r.chain == chain_verdict::ok);
    BOOST_TEST(r.reason.find("mail.us.contoso.com, fabrikam.com") != std::string::npos);
    BOOST_TEST(r.reason.find("name mismatch") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(chain_failure_reported_before_names_but_names_still_evaluated) {
    const auto r = check(ca.self_signed(named({"contoso.com"})), trust, domain("contoso.com"), false);
    BOOST_TEST(!r.passed);
    BOOST_TEST(r.chain == chain_verdict::untrusted);
    BOOST_REQUIRE(r.domain_match);
    BOOST_TEST(r.domain_match->matched);  // opportunistic can log that only the chain failed
}

BOOST_AUTO_TEST_CASE(names_only_without_chain_check) {
    verify_request r = domain("contoso.com");
    r.check_chain = false;
    BOOST_TEST(check(ca.self_signed(named({"contoso.com"})), trust, r, false).passed);
}

BOOST_AUTO_TEST_CASE(match_host_uses_rfc6125_rules) {
    verify_request r = domain("contoso.com");
    r.host = reference_name::parse("mx1.contoso.com");
    BOOST_TEST(check(ca.leaf(named({"*.contoso.com"})), trust, r).passed);
    r.host = reference_name::parse("mx1.eu.contoso.com");
    auto res = check(ca.leaf(named({"*.contoso.com"})), trust, r);
    BOOST_TEST(!res.passed);
    BOOST_TEST(res.reason.find("host mx1.eu.contoso.com") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(purpose_follows_the_peer_role) {
    leaf_options server_only = named({"mail.contoso.com"});
    server_only.usage = eku::server;
    verify_request as_client;
    as_client.role = peer_role::client;
    auto r = check(ca.leaf(server_only), trust, as_client);
    BOOST_TEST(!r.passed);
    BOOST_TEST(r.chain == chain_verdict::invalid);
    BOOST_TEST(check(ca.leaf(server_only), trust).passed);
}

BOOST_AUTO_TEST_CASE(self_signed_certificate_made_by_dsproxy_is_a_usable_trust_anchor) {
    const auto self = ca.self_signed(named({"mail.contoso.com"}));
    BOOST_TEST(check(self, trust_store::from({self.cert.get()}), domain("contoso.com"), false).passed);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

void write_pem(const std::string& path, X509* cert) {
    dsproxy::tls::bio_ptr out(BIO_new_file(path.c_str(), "w"));
    BOOST_REQUIRE(out);
    BOOST_REQUIRE(PEM_write_bio_X509(out.get(), cert) == 1);
}

}  // namespace

// trust: `ca_file`, `ca_dir` (OpenSSL's hashed directory) and `system` each
// add anchors; with none of them nothing is trusted.
BOOST_FIXTURE_TEST_CASE(trust_settings_from_files_hashed_directory_and_nothing, fixture) {
    temp_dir dir;
    const auto leaf = ca.leaf(named({"mail.contoso.com"}));
    std::string error;

    trust_settings bundle;
    bundle.ca_files = {dir.file("root.pem")};
    write_pem(bundle.ca_files[0], ca.root.cert.get());
    auto from_file = trust_store::load(bundle, error);
    BOOST_REQUIRE_MESSAGE(from_file, error);
    BOOST_TEST(check(leaf, *from_file).passed);

    const std::string hashed = dir.file("hashed");
    BOOST_REQUIRE(std::filesystem::create_directory(hashed));
    char name[32];
    std::snprintf(name, sizeof name, "/%08lx.0", X509_subject_name_hash(ca.root.cert.get()));
    write_pem(hashed + name, ca.root.cert.get());
    trust_settings by_dir;
    by_dir.ca_dir = hashed;
    auto from_dir = trust_store::load(by_dir, error);
    BOOST_REQUIRE_MESSAGE(from_dir, error);
    BOOST_TEST(check(leaf, *from_dir).passed);

    auto nothing = trust_store::load(trust_settings{}, error);
    BOOST_REQUIRE(nothing);
    const auto r = check(leaf, *nothing);
    BOOST_TEST(!r.passed);
    BOOST_TEST(r.chain == chain_verdict::untrusted);

    trust_settings missing;
    missing.ca_files = {dir.file("absent.pem")};
    BOOST_TEST(!trust_store::load(missing, error));
    BOOST_TEST(error.find("absent.pem") != std::string::npos);
}
