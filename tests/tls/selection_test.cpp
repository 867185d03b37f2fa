// selection_test — docs/design.md §4.1's order, one rule per test case.
#include "test_pki.hpp"

#include "tls/certificate_selection.hpp"
#include "tls/client_certificate_choice.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::tls;
using namespace dsproxy::tls::test;

namespace {

struct fixture {
    pki ca;
    trust_store trust = trust_store::from({ca.root.cert.get()});
    certificate_store store;
    std::time_t now = std::time(nullptr);

    std::shared_ptr<const credential> add_leaf(leaf_options o, evp_pkey_ptr key = nullptr) {
        auto c = credential_of(ca.leaf(o, std::move(key)), ca.chain(), &trust);
        store.add(c);
        return c;
    }
    std::shared_ptr<const credential> add_self(leaf_options o, evp_pkey_ptr key = nullptr) {
        auto c = credential_of(ca.self_signed(o, std::move(key)), {}, &trust);
        store.add(c);
        return c;
    }
    selection pick(const std::string& fqdn, const std::string& sni = {}, bool ecdsa = true,
                   fallback_mode fb = fallback_mode::none) const {
        selection_policy p;
        p.fqdn = fqdn;
        p.fallback = fb;
        return select_certificate(store, p, {sni, ecdsa}, now);
    }
};

leaf_options names(std::vector<std::string> dns, long nb = -day, long na = 365 * day) {
    leaf_options o;
    o.cn = dns.empty() ? "x" : dns.front();
    o.dns = std::move(dns);
    o.not_before = nb;
    o.not_after = na;
    return o;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(selection, fixture)

BOOST_AUTO_TEST_CASE(exact_name_beats_any_wildcard_even_a_better_ranked_one) {
    auto exact = add_leaf(names({"mail.contoso.com"}, -400 * day, -10 * day));  // expired
    add_leaf(names({"*.contoso.com"}, -day));                                    // valid, trusted
    const auto s = pick("mail.contoso.com");
    BOOST_REQUIRE(s);
    BOOST_TEST(s.cert == exact);
    BOOST_TEST(s.rank == candidate_rank::outside_validity);
    const auto list = rank_candidates(store, *dsproxy::matching::reference_name::parse("mail.contoso.com"), now);
    BOOST_TEST(list.size() == 1u);
}

BOOST_AUTO_TEST_CASE(wildcard_covers_one_label_only) {
    auto wild = add_leaf(names({"*.contoso.com"}));
    BOOST_TEST(pick("mail.contoso.com").cert == wild);
    BOOST_TEST(pick("MAIL.Contoso.com.").cert == wild);
    BOOST_TEST(!pick("a.mail.contoso.com"));
    BOOST_TEST(!pick("contoso.com"));
}

BOOST_AUTO_TEST_CASE(wildcard_over_a_public_suffix_is_never_used) {
    add_leaf(names({"*.com"}));
    BOOST_TEST(!pick("contoso.com"));
}

BOOST_AUTO_TEST_CASE(trusted_newest_not_before_first) {
    add_leaf(names({"mail.contoso.com"}, -20 * day));
    auto newer = add_leaf(names({"mail.contoso.com"}, -2 * day));
    add_leaf(names({"mail.contoso.com"}, -10 * day));
    BOOST_TEST(pick("mail.contoso.com").cert == newer);
}

BOOST_AUTO_TEST_CASE(trusted_beats_newer_self_signed) {
    auto trusted = add_leaf(names({"mail.contoso.com"}, -20 * day));
    add_self(names({"mail.contoso.com"}, -1 * day));
    const auto s = pick("mail.contoso.com");
    BOOST_TEST(s.cert == trusted);
    BOOST_TEST(s.rank == candidate_rank::trusted);
}

BOOST_AUTO_TEST_CASE(valid_self_signed_beats_expired_trusted_newest_first) {
    add_leaf(names({"mail.contoso.com"}, -400 * day, -1 * day));
    add_self(names({"mail.contoso.com"}, -30 * day));
    auto newest = add_self(names({"mail.contoso.com"}, -3 * day));
    const auto s = pick("mail.contoso.com");
    BOOST_TEST(s.cert == newest);
    BOOST_TEST(s.rank == candidate_rank::self_signed);
}

BOOST_AUTO_TEST_CASE(unknown_issuer_ranks_after_self_signed_and_before_expired) {
    pki other;
    auto expired = add_self(names({"mail.contoso.com"}, -400 * day, -1 * day));
    auto unknown = credential_of(other.leaf(names({"mail.contoso.com"}, -day)), other.chain(), &trust);
    store.add(unknown);
    BOOST_TEST(pick("mail.contoso.com").cert == unknown);
    auto self = add_self(names({"mail.contoso.com"}, -50 * day));
    const auto list = rank_candidates(store, *dsproxy::matching::reference_name::parse("mail.contoso.com"), now);
    BOOST_REQUIRE(list.size() == 3u);
    BOOST_TEST(list[0].cert == self);
    BOOST_TEST(list[1].cert == unknown);
    BOOST_TEST(list[2].cert == expired);
}

BOOST_AUTO_TEST_CASE(expired_and_not_yet_valid_newest_not_before_first) {
    auto expired = add_leaf(names({"mail.contoso.com"}, -400 * day, -1 * day));
    auto future = add_leaf(names({"mail.contoso.com"}, 10 * day, 400 * day));
    const auto list = rank_candidates(store, *dsproxy::matching::reference_name::parse("mail.contoso.com"), now);
    BOOST_REQUIRE(list.size() == 2u);
    BOOST_TEST(list[0].cert == future);
    BOOST_TEST(list[1].cert == expired);
    BOOST_TEST(list[0].rank == candidate_rank::outside_validity);
}

BOOST_AUTO_TEST_CASE(ecdsa_to_ecdsa_clients_rsa_to_the_rest) {
    auto ec = add_leaf(names({"mail.contoso.com"}, -10 * day), ec_key());
    auto rsa = add_leaf(names({"mail.contoso.com"}, -2 * day), rsa_key());
    BOOST_TEST(pick("mail.contoso.com", {}, true).cert == ec);
    BOOST_TEST(pick("mail.contoso.com", {}, false).cert == rsa);
}

BOOST_AUTO_TEST_CASE(key_type_choice_stays_within_the_winning_rank) {
    auto rsa = add_leaf(names({"mail.contoso.com"}, -2 * day), rsa_key());
    add_self(names({"mail.contoso.com"}, -1 * day), ec_key());
    BOOST_TEST(pick("mail.contoso.com", {}, true).cert == rsa);
}

BOOST_AUTO_TEST_CASE(sni_when_the_store_has_it_else_fqdn) {
    auto listener = add_leaf(names({"mail1.contoso.com"}));
    auto other = add_leaf(names({"smtp.fabrikam.com"}));
    auto s = pick("mail1.contoso.com", "smtp.fabrikam.com");
    BOOST_TEST(s.cert == other);
    BOOST_TEST(s.basis == selection_basis::sni);
    s = pick("mail1.contoso.com", "unknown.example.org");
    BOOST_TEST(s.cert == listener);
    BOOST_TEST(s.basis == selection_basis::fqdn);
    BOOST_TEST(pick("mail1.contoso.com", "bad..name").cert == listener);
}

BOOST_AUTO_TEST_CASE(cn_counts_only_without_san) {
    leaf_options cn_only;
    cn_only.cn = "legacy.contoso.com";
    auto legacy = add_leaf(cn_only);
    leaf_options with_san = names({"other.contoso.com"});
    with_san.cn = "hidden.contoso.com";
    add_leaf(with_san);
    BOOST_TEST(pick("legacy.contoso.com").cert == legacy);
    BOOST_TEST(!pick("hidden.contoso.com"));
}

BOOST_AUTO_TEST_CASE(pin_by_sha1_or_sha256_in_any_spelling) {
    add_leaf(names({"mail.contoso.com"}, -day));
    auto pinned = add_leaf(names({"mail.contoso.com"}, -20 * day));
    selection_policy p;
    p.fqdn = "mail.contoso.com";
    std::string sha1 = pinned->info.sha1_thumbprint;
    for (auto& c : sha1) c = static_cast<char>(std::tolower(c));
    p.pin = sha1;
    auto s = select_certificate(store, p, {"mail.contoso.com", true}, now);
    BOOST_TEST(s.cert == pinned);
    BOOST_TEST(s.basis == selection_basis::pin);
    std::string sha256;
    for (std::size_t i = 0; i < pinned->info.sha256.size(); i += 2)
        sha256 += (i ? ":" : "") + pinned->info.sha256.substr(i, 2);
    p.pin = sha256;
    BOOST_TEST(select_certificate(store, p, {}, now).cert == pinned);
    p.pin = std::string(40, 'A');
    s = select_certificate(store, p, {}, now);
    BOOST_TEST(!s);
    BOOST_TEST(s.reason.find("not in the certificate store") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_certificate_is_a_reason_unless_fallback_any) {
    add_leaf(names({"mail.fabrikam.com"}, -30 * day));
    auto best = add_leaf(names({"smtp.fabrikam.com"}, -day));
    auto s = pick("mail1.contoso.com");
    BOOST_TEST(!s);
    BOOST_TEST(s.reason.find("mail1.contoso.com") != std::string::npos);
    s = pick("mail1.contoso.com", {}, true, fallback_mode::any);
    BOOST_TEST(s.cert == best);
    BOOST_TEST(s.basis == selection_basis::fallback_any);
    certificate_store empty;
    selection_policy p;
    p.fqdn = "mail1.contoso.com";
    p.fallback = fallback_mode::any;
    BOOST_TEST(!select_certificate(empty, p, {}, now));
}

BOOST_AUTO_TEST_CASE(client_use_needs_client_auth_and_server_use_ignores_client_only) {
    leaf_options server_only = names({"mail.contoso.com"}, -day);
    server_only.usage = eku::server;
    store.add(credential_of(ca.leaf(server_only), ca.chain(), &trust));
    leaf_options client_only = names({"mail.contoso.com"}, -10 * day);
    client_only.usage = eku::client;
    auto client = credential_of(ca.leaf(client_only), ca.chain(), &trust, certificate_use::client);
    store.add(client);
    selection_policy p;
    p.fqdn = "mail.contoso.com";
    p.use = certificate_use::client;
    BOOST_TEST(select_certificate(store, p, {}, now).cert == client);
    p.use = certificate_use::server;
    BOOST_TEST(select_certificate(store, p, {}, now).cert != client);
}

// Issue 15 item 1: a serverAuth-only certificate is never a client
// certificate, and the reason names it (thumbprint, subject, EKU), what needs
// it and what to do.
BOOST_AUTO_TEST_CASE(client_certificate_choice_names_the_certificate_without_client_auth) {
    leaf_options server_only = names({"mail.contoso.com"}, -day);
    server_only.usage = eku::server;
    const auto s = add_leaf(server_only);
    BOOST_TEST(extended_key_usage_text(*s->certificate) == "serverAuth");
    selection_policy p;
    p.fqdn = "mail.contoso.com";
    const auto none = choose_client_certificate(store, p, "upstream backend (level domain-secure)", now);
    BOOST_TEST(!none);
    BOOST_TEST(none.problem.find("upstream backend (level domain-secure) needs a client certificate") == 0u);
    BOOST_TEST(none.problem.find("sha256=" + s->info.sha256) != std::string::npos);
    BOOST_TEST(none.problem.find("subject=\"" + s->info.subject + "\"") != std::string::npos);
    BOOST_TEST(none.problem.find("extendedKeyUsage is serverAuth, without clientAuth") != std::string::npos);
    BOOST_TEST(none.problem.find("client_only: true") != std::string::npos);
    leaf_options both = names({"mail.contoso.com"}, -10 * day);
    both.usage = eku::server_and_client;
    const auto c = add_leaf(both);
    BOOST_TEST(extended_key_usage_text(*c->certificate) == "serverAuth,clientAuth");
    const auto chosen = choose_client_certificate(store, p, "upstream backend", now);
    BOOST_TEST(chosen.cert == c);
    BOOST_TEST(chosen.problem.empty());
    p.fqdn = "other.contoso.com";
    const auto nothing = choose_client_certificate(store, p, "policy x", now);
    BOOST_TEST(!nothing);
    BOOST_TEST(nothing.problem.find("policy x needs a client certificate: ") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
