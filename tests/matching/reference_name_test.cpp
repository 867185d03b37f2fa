// Reference names: normalisation (case, one trailing dot, IDNA2008) and the
// errors for names that cannot be a reference (docs/design.md §5).
#include "matching/idn.hpp"

#include <boost/test/unit_test.hpp>

namespace m = dsproxy::matching;

BOOST_AUTO_TEST_SUITE(reference_names)

BOOST_AUTO_TEST_CASE(normalises_case_and_one_trailing_dot) {
    BOOST_TEST(m::reference_name::parse("Contoso.COM.")->text() == "contoso.com");
    BOOST_TEST(m::reference_name::parse("contoso.com")->text() == "contoso.com");
}

BOOST_AUTO_TEST_CASE(converts_unicode_with_idna2008_nontransitional) {
    BOOST_TEST(m::reference_name::parse("faß.de")->text() == "xn--fa-hia.de");
    BOOST_TEST(m::reference_name::parse("bücher.de")->text() == "xn--bcher-kva.de");
    BOOST_TEST(m::reference_name::parse("Bücher.DE.")->text() == "xn--bcher-kva.de");
    BOOST_TEST(m::reference_name::parse("straße.de")->text() == "xn--strae-oqa.de");
}

BOOST_AUTO_TEST_CASE(names_equal_after_normalisation_compare_equal) {
    BOOST_TEST((*m::reference_name::parse("Contoso.COM.") == *m::reference_name::parse("contoso.com")));
}

BOOST_AUTO_TEST_CASE(unconvertible_unicode_is_an_error_with_a_reason) {
    std::string error;
    // U+2615 HOT BEVERAGE is DISALLOWED in IDNA2008.
    BOOST_TEST(!m::reference_name::parse("\xe2\x98\x95.de", &error).has_value());
    BOOST_TEST(error.find("IDNA2008") != std::string::npos);
    // Invalid UTF-8.
    BOOST_TEST(!m::reference_name::parse("\xff\xfe.de", &error).has_value());
}

BOOST_AUTO_TEST_CASE(a_labels_must_be_what_idna2008_would_write) {
    BOOST_TEST(m::reference_name::parse("XN--BCHER-KVA.de")->text() == "xn--bcher-kva.de");
    BOOST_TEST(m::reference_name::parse("mail.xn--fa-hia.de")->text() == "mail.xn--fa-hia.de");
    std::string error;
    // Punycode that decodes to nothing valid, to plain ASCII, or to a
    // DISALLOWED code point (U+2615 encodes as xn--53h).
    for (const char* bad : {"xn--zz.com", "mail.xn--abc.com", "xn--53h.de"}) {
        BOOST_TEST_CONTEXT(bad) {
            BOOST_TEST(!m::reference_name::parse(bad, &error).has_value());
            BOOST_TEST(error.find("A-label") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(invalid_references_are_errors) {
    std::string error;
    for (const char* bad : {"", ".", "contoso.com..", "*.contoso.com", "mail..contoso.com", "-a.com", "a_b.com",
                            "[192.0.2.1]", "192.0.2.1", "contoso com"}) {
        BOOST_TEST_CONTEXT(bad) {
            error.clear();
            BOOST_TEST(!m::reference_name::parse(bad, &error).has_value());
            BOOST_TEST(!error.empty());
        }
    }
    BOOST_TEST(!m::reference_name::parse(std::string("a\0b.com", 7), &error).has_value());
    BOOST_TEST(!m::reference_name::parse(std::string(64, 'a') + ".com").has_value());
    BOOST_TEST(m::reference_name::parse(std::string(63, 'a') + ".com").has_value());
}

BOOST_AUTO_TEST_CASE(length_limit_is_253_without_the_dot) {
    std::string name;
    while (name.size() < 253) name += (name.empty() ? "" : ".") + std::string(std::min<std::size_t>(61, 253 - name.size() - (name.empty() ? 0 : 1)), 'a');
    BOOST_TEST_REQUIRE(name.size() == 253u);
    name.back() = 'x';  // keep the last label non-numeric
    BOOST_TEST(m::reference_name::parse(name).has_value());
    BOOST_TEST(m::reference_name::parse(name + ".").has_value());
    BOOST_TEST(!m::reference_name::parse("b" + name).has_value());
}

BOOST_AUTO_TEST_CASE(idna2008_written_form_without_mapping) {
    // As written, no UTS #46 mapping needed: ASCII in any case, valid U-labels.
    BOOST_TEST(m::written_in_idna2008_form("Contoso.COM"));
    BOOST_TEST(m::written_in_idna2008_form("b\xc3\xbc" "cher.de"));     // bücher.de
    BOOST_TEST(m::written_in_idna2008_form("xn--bcher-kva.de"));
    // Names that are contoso.com / bücher.de only after mapping.
    BOOST_TEST(!m::written_in_idna2008_form("\xef\xbd\x83ontoso.com"));  // full-width c
    BOOST_TEST(!m::written_in_idna2008_form("contoso\xe3\x80\x82" "com"));  // ideographic full stop
    BOOST_TEST(!m::written_in_idna2008_form("contoso\xef\xbc\x8e" "com"));  // full-width full stop
    BOOST_TEST(!m::written_in_idna2008_form("B\xc3\x9c" "CHER.DE"));      // upper-case Ü
    BOOST_TEST(m::reference_name::parse("\xef\xbd\x83ontoso.com")->text() == "contoso.com");  // what mapping does
    BOOST_TEST(!m::written_in_idna2008_form("\xe2\x98\x95.de"));        // DISALLOWED either way
    BOOST_TEST(!m::written_in_idna2008_form(std::string("a\0b.com", 7)));
}

BOOST_AUTO_TEST_SUITE_END()
