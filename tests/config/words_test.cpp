// Enums, TLS versions, certificate references and the "did you mean" rule.
#include "config/certificate_ref.hpp"
#include "config/enums.hpp"
#include "config/suggest.hpp"
#include "config/value_kinds.hpp"

#include <boost/test/unit_test.hpp>

#include <array>

using namespace dsproxy::config;

BOOST_AUTO_TEST_SUITE(words)

BOOST_AUTO_TEST_CASE(every_enum_spelling_round_trips) {
    BOOST_TEST((*parse_enum<tls_level>("domain-secure") == tls_level::domain_secure));
    BOOST_TEST(to_name(tls_level::domain_secure) == "domain-secure");
    for (const auto& e : enum_table<tls_level>::entries) BOOST_TEST((parse_enum<tls_level>(e.name) == e.value));
    BOOST_TEST((*parse_enum<listener_tls>("implicit") == listener_tls::implicit));
    BOOST_TEST((*parse_enum<bare_lf_action>("normalize") == bare_lf_action::normalize));
    for (const auto& e : enum_table<address_order>::entries)
        BOOST_TEST((parse_enum<address_order>(e.name) == e.value));
    BOOST_TEST(to_name(address_order::ipv4_only) == "ipv4-only");
    BOOST_TEST((*parse_enum<dsproxy::matching::cn_fallback>("no-san") == dsproxy::matching::cn_fallback::no_san));
}

BOOST_AUTO_TEST_CASE(tls_versions_with_and_without_prefix) {
    BOOST_TEST((*parse_enum<tls_version>("1.2") == tls_version::v1_2));
    BOOST_TEST((*parse_enum<tls_version>("TLSv1.3") == tls_version::v1_3));
    BOOST_TEST(to_name(tls_version::v1_3) == "1.3");  // the first spelling is the printed one
    std::string error;
    BOOST_TEST(!parse_enum<tls_version>("1.1", &error));  // below the hardened minimum (docs/design.md §3)
    BOOST_TEST(!parse_enum<tls_version>("1.20", &error));
    BOOST_TEST(error.find("`1.2`, `1.3`, `TLSv1.2` or `TLSv1.3`") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(misspelt_enum_values_get_a_suggestion) {
    std::string error;
    BOOST_TEST(!parse_enum<tls_level>("domain_secure", &error));
    BOOST_TEST(error.find("did you mean `domain-secure`?") != std::string::npos);
    BOOST_TEST(!parse_enum<tls_level>("Validate", &error));  // case matters
    BOOST_TEST(error.find("did you mean `validate`?") != std::string::npos);
    BOOST_TEST(!parse_enum<log_format>("xml", &error));
    BOOST_TEST(error.find("did you mean") == std::string::npos);  // nothing close: no guess
    BOOST_TEST(error.find("expected `text` or `json`") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(edit_distance_and_nearest) {
    BOOST_TEST(edit_distance("on_failur", "on_failure") == 1u);
    BOOST_TEST(edit_distance("levle", "level") == 1u);  // a transposition is one edit
    BOOST_TEST(edit_distance("", "abc") == 3u);
    BOOST_TEST(edit_distance("kitten", "sitting") == 3u);
    constexpr std::array<std::string_view, 3> keys{"level", "on_failure", "mode"};
    BOOST_TEST(*nearest("on_failur", keys) == "on_failure");
    BOOST_TEST(*nearest("mdoe", keys) == "mode");
    BOOST_TEST(!nearest("certificates", keys).has_value());
}

BOOST_AUTO_TEST_CASE(thumbprints_and_certificate_names) {
    const auto sha1 = parse_thumbprint("a9:99:3e:36:47:06:81:6a:ba:3e:25:71:78:50:c2:6c:9c:d0:d8:9d");
    BOOST_TEST_REQUIRE(sha1.has_value());
    BOOST_TEST((sha1->by == certificate_ref::kind::sha1));
    BOOST_TEST(sha1->value == "A9993E364706816ABA3E25717850C26C9CD0D89D");
    const auto sha256 = parse_thumbprint(std::string(64, 'e'));
    BOOST_TEST((sha256->by == certificate_ref::kind::sha256));
    std::string error;
    BOOST_TEST(!parse_thumbprint(std::string(41, 'a'), &error));
    BOOST_TEST(error.find("40 hex digits") != std::string::npos);
    BOOST_TEST(!parse_thumbprint("mail.contoso.com", &error));
    const auto by_name = parse_certificate_ref("Mail.Contoso.COM");
    BOOST_TEST((by_name->by == certificate_ref::kind::name));
    BOOST_TEST(by_name->value == "mail.contoso.com");
    BOOST_TEST(!parse_certificate_ref("*.contoso.com", &error));
}

BOOST_AUTO_TEST_CASE(booleans_are_strict) {
    BOOST_TEST(*parse_bool("true", nullptr));
    BOOST_TEST(!*parse_bool("no", nullptr));
    std::string error;
    BOOST_TEST(!parse_bool("True1", &error));
    BOOST_TEST(!parse_bool("1", &error));
    BOOST_TEST(error.find("`true` or `false`") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
