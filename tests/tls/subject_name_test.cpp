// subject_name_test — `--subject` parsing and every rule of docs/design.md §4.2's
// table and notes; SAN name validation.
#include "tls/country_codes.hpp"
#include "tls/san_names.hpp"
#include "tls/subject_name.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::tls;

namespace {

subject_rdns parse_ok(std::string_view text) {
    std::string error;
    auto r = parse_subject(text, error);
    BOOST_REQUIRE_MESSAGE(r, error);
    return *r;
}

std::string parse_error(std::string_view text) {
    std::string error;
    BOOST_TEST(!parse_subject(text, error));
    return error;
}

subject_findings findings(std::string_view text) { return validate_subject(parse_ok(text)); }

bool mentions(const std::vector<std::string>& lines, std::string_view what) {
    for (const auto& l : lines)
        if (l.find(what) != std::string::npos) return true;
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(subject_name)

BOOST_AUTO_TEST_CASE(order_kept_types_canonical_c_upper) {
    const auto r = parse_ok("c=us, o=contoso corp, s=Washington,CN=mail1.contoso.com");
    BOOST_REQUIRE(r.size() == 4u);
    BOOST_TEST((r[0] == rdn{"C", "US"}));
    BOOST_TEST((r[1] == rdn{"O", "contoso corp"}));
    BOOST_TEST((r[2] == rdn{"ST", "Washington"}));
    BOOST_TEST((r[3] == rdn{"CN", "mail1.contoso.com"}));
    BOOST_TEST(findings("c=us, o=contoso corp, s=Washington,CN=mail1.contoso.com").ok());
}

BOOST_AUTO_TEST_CASE(quotes_escapes_and_utf8) {
    auto r = parse_ok(R"(O="Contoso, Ltd", OU=Mail \, Gateways, CN="say ""hi""", L=" padded ")");
    BOOST_REQUIRE(r.size() == 4u);
    BOOST_TEST(r[0].value == "Contoso, Ltd");
    BOOST_TEST(r[1].value == "Mail , Gateways");
    BOOST_TEST(r[2].value == "say \"hi\"");
    BOOST_TEST(r[3].value == " padded ");
    r = parse_ok("C=ES,O=Diversión de Bicicleta,CN=mail1.diversion.example");
    BOOST_TEST(r[1].value == "Diversión de Bicicleta");
    BOOST_TEST(format_subject(parse_ok(R"(O="Contoso, Ltd", CN=a.b)")) == R"(O="Contoso, Ltd", CN=a.b)");
}

BOOST_AUTO_TEST_CASE(syntax_errors) {
    BOOST_TEST(parse_error("").find("empty") != std::string::npos);
    BOOST_TEST(parse_error("CN=a,,O=b").find("empty component") != std::string::npos);
    BOOST_TEST(parse_error("CN=a,").find("empty component") != std::string::npos);
    BOOST_TEST(parse_error("mail1.contoso.com").find("no '='") != std::string::npos);
    BOOST_TEST(parse_error("E=admin@contoso.com").find("unknown RDN type 'E'") != std::string::npos);
    BOOST_TEST(parse_error("O=\"open").find("unterminated") != std::string::npos);
    BOOST_TEST(parse_error("O=\"a\"b").find("after a closing quote") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cn_over_64_refused_with_san_advice) {
    const std::string fqdn = std::string(60, 'a') + ".contoso.com";
    const auto f = findings("CN=" + fqdn);
    BOOST_TEST(!f.ok());
    BOOST_TEST(mentions(f.errors, "--domain"));
    BOOST_TEST(mentions(f.errors, "72 characters"));
    BOOST_TEST(findings("CN=" + std::string(64, 'a')).ok());
    // Characters, not bytes: 64 two-byte characters fit.
    std::string wide;
    for (int i = 0; i < 64; ++i) wide += "é";
    BOOST_TEST(findings("CN=" + wide).ok());
}

BOOST_AUTO_TEST_CASE(country_must_be_iso3166_alpha2) {
    BOOST_TEST(findings("C=DE").ok());
    BOOST_TEST(findings("C=gb").ok());
    BOOST_TEST(!findings("C=USA").ok());
    BOOST_TEST(!findings("C=XX").ok());
    BOOST_TEST(!findings("C=1A").ok());
    BOOST_TEST(mentions(findings("C=UK").errors, "GB"));
    BOOST_TEST(is_iso3166_alpha2("ZW"));
    BOOST_TEST(is_iso3166_alpha2("AD"));
    BOOST_TEST(!is_iso3166_alpha2("EU"));
}

BOOST_AUTO_TEST_CASE(dc_total_limit_and_c_exclusive_warning) {
    BOOST_TEST(findings("DC=contoso, DC=com, CN=mail1.contoso.com").ok());
    BOOST_TEST(findings("DC=contoso, DC=com, CN=mail1.contoso.com").warnings.empty());
    const std::string dc(63, 'd');
    const std::string four = "DC=" + dc + ",DC=" + dc + ",DC=" + dc + ",DC=" + dc;  // 252
    BOOST_TEST(findings(four).ok());
    const auto f = findings(four + ",DC=com");  // 255
    BOOST_TEST(f.ok());
    BOOST_TEST(!findings(four + ",DC=comm").ok());  // 256
    BOOST_TEST(mentions(findings(four + ",DC=comm").errors, "255"));
    const auto both = findings("C=US, DC=contoso, DC=com");
    BOOST_TEST(both.ok());
    BOOST_TEST(mentions(both.warnings, "both DC and C"));
    BOOST_TEST(!findings("DC=bücher").ok());
}

BOOST_AUTO_TEST_CASE(other_limits) {
    BOOST_TEST(findings("ST=" + std::string(128, 's')).ok());
    BOOST_TEST(!findings("ST=" + std::string(129, 's')).ok());
    BOOST_TEST(!findings("L=" + std::string(129, 'l')).ok());
    BOOST_TEST(findings("O=" + std::string(64, 'o')).ok());
    BOOST_TEST(!findings("O=" + std::string(65, 'o')).ok());
    BOOST_TEST(!findings("OU=" + std::string(65, 'u')).ok());
    BOOST_TEST(!findings("O=").ok());
    BOOST_TEST(!validate_subject({{"O", "\xff\xfe"}}).ok());
}

BOOST_AUTO_TEST_CASE(several_cns_warned) {
    const auto f = findings("CN=mail1.contoso.com, CN=mail2.contoso.com");
    BOOST_TEST(f.ok());
    BOOST_TEST(mentions(f.warnings, "2 CNs"));
}

BOOST_AUTO_TEST_CASE(non_ascii_fqdn_like_cn_warned) {
    const auto f = findings("CN=mail.contoso.com");
    BOOST_TEST(f.warnings.empty());
    BOOST_TEST(findings("CN=ma\xc3\xafl.contoso.com").ok());
    BOOST_TEST(mentions(findings("CN=ma\xc3\xafl.contoso.com").warnings, "non-ASCII"));
    BOOST_TEST(findings("CN=Diversión de Bicicleta").warnings.empty());  // not FQDN-like
}

BOOST_AUTO_TEST_CASE(utf8_validation) {
    BOOST_TEST(is_valid_utf8("ï plain"));
    BOOST_TEST(!is_valid_utf8("\xc3"));
    BOOST_TEST(!is_valid_utf8("\xc0\xaf"));          // overlong
    BOOST_TEST(!is_valid_utf8("\xed\xa0\x80"));      // surrogate
    BOOST_TEST(!is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    BOOST_TEST(utf8_length("aï€😀") == 4u);
}

BOOST_AUTO_TEST_CASE(public_suffixes_and_wildcards_over_them_are_refused) {
    // Issue 19 item 4: `--domain '*.com'` wrote a request with DNS:*.com.
    std::string error;
    BOOST_TEST(!normalize_san_name("*.com", error));
    BOOST_TEST(error.find("public suffix com") != std::string::npos);
    BOOST_TEST(!normalize_san_name("*.co.uk", error));
    BOOST_TEST(!normalize_san_name("co.uk", error));
    BOOST_TEST(error.find("is a public suffix") != std::string::npos);
    BOOST_TEST(!normalize_san_name("*.github.io", error));  // the private section: everyone's pages
    BOOST_TEST(*normalize_san_name("*.contoso.co.uk", error) == "*.contoso.co.uk");
    BOOST_TEST(*normalize_san_name("localhost", error) == "localhost");  // no implicit '*' rule
    BOOST_TEST(*normalize_san_name("mail.dsproxy.test", error) == "mail.dsproxy.test");
}

BOOST_AUTO_TEST_CASE(a_second_wildcard_is_refused_quoting_the_name_given) {
    // Issue 19 item 4: the message quoted '*.contoso.com', the remainder after the first "*.".
    std::string error;
    BOOST_TEST(!normalize_san_name("*.*.contoso.com", error));
    BOOST_TEST(error.find("'*.*.contoso.com'") == 0u);
    BOOST_TEST(error.find("'*.contoso.com'") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(control_characters_in_subject_values_are_refused) {
    // Issue 19 item 4: a tab or a newline went into the subject.
    std::string error;
    for (const char* text : {"O=Contoso\tCorp, CN=mail.contoso.com", "CN=mail.contoso.com, OU=a\nb",
                             "CN=mail.contoso.com, O=a\xc2\x85" "b"}) {  // U+0085 NEXT LINE, a C1 control
        auto parsed = parse_subject(text, error);
        BOOST_REQUIRE_MESSAGE(parsed, error);
        const auto f = validate_subject(*parsed);
        BOOST_TEST_REQUIRE(f.errors.size() == 1u);
        BOOST_TEST(f.errors.front().find("control character") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(san_names_validated_and_converted_to_a_labels) {
    std::string error;
    BOOST_TEST(*normalize_san_name("Mail1.Contoso.COM.", error) == "mail1.contoso.com");
    BOOST_TEST(*normalize_san_name("*.contoso.com", error) == "*.contoso.com");
    BOOST_TEST(*normalize_san_name("bücher.de", error) == "xn--bcher-kva.de");
    BOOST_TEST(*normalize_san_name("*.faß.de", error) == "*.xn--fa-hia.de");
    BOOST_TEST(!normalize_san_name("m*.contoso.com", error));
    BOOST_TEST(!normalize_san_name("mail.*.contoso.com", error));
    BOOST_TEST(!normalize_san_name("under_score.contoso.com", error));
    BOOST_TEST(!normalize_san_name("-bad.contoso.com", error));
    BOOST_TEST(!normalize_san_name("a..b", error));
    BOOST_TEST(!normalize_san_name(std::string(64, 'a') + ".com", error));
    BOOST_TEST(!normalize_san_name(std::string(256, 'a'), error));
    BOOST_TEST(error.find("255") != std::string::npos);
    std::vector<std::string> names{"a.com"};
    add_unique_name(names, "A.COM");
    add_unique_name(names, "b.com");
    BOOST_TEST(names.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
