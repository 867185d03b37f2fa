// Domain keys and the policy lookup order of docs/design.md §6.1: exact, nearest
// `.parent`, default; wildcards refused; keys normalised (case, trailing dot,
// IDN).
#include "config/domain_table.hpp"
#include "config/policy.hpp"

#include "matching/idn.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::config;

namespace {

domain_key key(std::string_view text) {
    auto k = parse_domain_key(text);
    BOOST_REQUIRE(k.has_value());
    return *k;
}

domain_policy at_level(tls_level level) {
    domain_policy p;
    p.level = level;
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(domain_tables)

BOOST_AUTO_TEST_CASE(keys_are_normalised) {
    BOOST_TEST((key("Contoso.COM.") == key("contoso.com")));
    BOOST_TEST(key("bücher.de").name == "xn--bcher-kva.de");
    BOOST_TEST(key("faß.de").name == "xn--fa-hia.de");
    BOOST_TEST(key(".Example.ORG").subdomains);
    BOOST_TEST(key(".Example.ORG").name == "example.org");
    BOOST_TEST(to_string(key(".example.org")) == ".example.org");
}

BOOST_AUTO_TEST_CASE(wildcard_and_invalid_keys_are_refused) {
    std::string error;
    BOOST_TEST(!parse_domain_key("*.contoso.com", &error));
    BOOST_TEST(error.find("write `.contoso.com`") != std::string::npos);
    for (const char* bad : {"*", "m*.contoso.com", "mail.*.com", "..contoso.com", "contoso..com", "", ".",
                            "192.0.2.1", "a_b.com"}) {
        BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!parse_domain_key(bad, &error)); }
    }
}

BOOST_AUTO_TEST_CASE(lookup_order_exact_then_nearest_parent_then_default) {
    policy_table table;
    table.set_default(at_level(tls_level::opportunistic));
    BOOST_TEST(!table.insert(key("contoso.com"), at_level(tls_level::domain_secure)));
    BOOST_TEST(!table.insert(key(".contoso.com"), at_level(tls_level::encrypt)));
    BOOST_TEST(!table.insert(key(".us.contoso.com"), at_level(tls_level::validate)));
    BOOST_TEST(!table.insert(key("mail.us.contoso.com"), at_level(tls_level::none)));

    const auto exact = table.lookup("contoso.com");
    BOOST_TEST((exact.source == policy_source::exact));
    BOOST_TEST((exact.policy->level == tls_level::domain_secure));

    const auto sub = table.lookup("eu.contoso.com");
    BOOST_TEST((sub.source == policy_source::parent));
    BOOST_TEST(sub.key == "contoso.com");
    BOOST_TEST((sub.policy->level == tls_level::encrypt));

    const auto nearest = table.lookup("a.b.us.contoso.com");  // the nearest parent wins
    BOOST_TEST(nearest.key == "us.contoso.com");
    BOOST_TEST((nearest.policy->level == tls_level::validate));

    BOOST_TEST((table.lookup("mail.us.contoso.com").policy->level == tls_level::none));  // exact beats parent
    BOOST_TEST((table.lookup("us.contoso.com").policy->level == tls_level::encrypt));    // `.us` is not us itself

    const auto other = table.lookup("fabrikam.com");
    BOOST_TEST((other.source == policy_source::fallback));
    BOOST_TEST(other.key == "default");
    BOOST_TEST((other.policy->level == tls_level::opportunistic));
    // A look-alike suffix is not a parent: label boundaries only.
    BOOST_TEST((table.lookup("notcontoso.com").source == policy_source::fallback));
}

BOOST_AUTO_TEST_CASE(parent_entry_does_not_cover_the_domain_itself) {
    policy_table table;
    table.insert(key(".example.org"), at_level(tls_level::encrypt));
    BOOST_TEST((table.lookup("example.org").source == policy_source::fallback));
    BOOST_TEST((table.lookup("mx.example.org").source == policy_source::parent));
}

BOOST_AUTO_TEST_CASE(lookups_by_normalised_envelope_domains) {
    policy_table table;
    table.insert(key("Bücher.DE."), at_level(tls_level::domain));
    // What the proxy does with an envelope domain before looking it up.
    for (const char* spelling : {"bücher.de", "BÜCHER.de.", "xn--bcher-kva.de", "XN--BCHER-KVA.DE"}) {
        BOOST_TEST_CONTEXT(spelling) {
            const auto name = dsproxy::matching::reference_name::parse(spelling);
            BOOST_REQUIRE(name.has_value());
            BOOST_TEST((table.lookup(name->text()).policy->level == tls_level::domain));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_key_inserted_twice_returns_the_first) {
    domain_table<int> table;
    BOOST_TEST(table.insert(key("contoso.com"), 1) == nullptr);
    const int* previous = table.insert(key("CONTOSO.com."), 2);
    BOOST_TEST_REQUIRE(previous != nullptr);
    BOOST_TEST(*previous == 1);
    BOOST_TEST(table.insert(key(".contoso.com"), 3) == nullptr);  // exact and parent are two keys
    BOOST_TEST(table.size() == 2u);
    const auto sorted = table.sorted();
    BOOST_TEST(to_string(sorted[0].first) == "contoso.com");
    BOOST_TEST(to_string(sorted[1].first) == ".contoso.com");
}

BOOST_AUTO_TEST_SUITE_END()
