#define BOOST_TEST_MODULE dane
// tlsa_record_test — TLSA RDATA decoding (RFC 6698 §2.1) and the RFC 7672
// §3.1.3 / RFC 7671 §5 usability rules for SMTP, record by record.
#include "proxy/dane/tlsa_record.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

namespace d = dsproxy::dane;
using bytes = std::vector<unsigned char>;

namespace {

d::tlsa_record record(std::uint8_t usage, std::uint8_t selector, std::uint8_t mtype, std::size_t length) {
    return d::tlsa_record{usage, selector, mtype, bytes(length, 0xab)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tlsa_record)

BOOST_AUTO_TEST_CASE(decodes_the_three_octets_and_the_data) {
    const auto r = d::decode_tlsa(bytes{3, 1, 1, 0xde, 0xad});
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->usage == 3);
    BOOST_TEST(r->selector == 1);
    BOOST_TEST(r->mtype == 1);
    BOOST_TEST(r->data == (bytes{0xde, 0xad}));
}

BOOST_AUTO_TEST_CASE(too_short_rdata_is_refused) {
    BOOST_TEST(!d::decode_tlsa(bytes{}).has_value());
    BOOST_TEST(!d::decode_tlsa(bytes{3, 1, 1}).has_value());  // no association data
    BOOST_TEST(!d::decode_tlsa(bytes{3}).has_value());
}

BOOST_AUTO_TEST_CASE(dane_ee_and_dane_ta_are_usable) {
    for (std::uint8_t usage : {2, 3})
        for (std::uint8_t selector : {0, 1}) {
            BOOST_TEST(d::usable(record(usage, selector, 0, 300)));
            BOOST_TEST(d::usable(record(usage, selector, 1, 32)));
            BOOST_TEST(d::usable(record(usage, selector, 2, 64)));
        }
}

BOOST_AUTO_TEST_CASE(pkix_usages_are_unusable_for_smtp) {
    // RFC 7672 §3.1.3: an MX host has no WebPKI to speak of.
    BOOST_TEST(d::why_unusable(record(0, 0, 1, 32)) == d::unusable_reason::pkix_usage);
    BOOST_TEST(d::why_unusable(record(1, 1, 1, 32)) == d::unusable_reason::pkix_usage);
}

BOOST_AUTO_TEST_CASE(unknown_parameters_are_unusable) {
    BOOST_TEST(d::why_unusable(record(4, 1, 1, 32)) == d::unusable_reason::unknown_usage);
    BOOST_TEST(d::why_unusable(record(255, 1, 1, 32)) == d::unusable_reason::unknown_usage);
    BOOST_TEST(d::why_unusable(record(3, 2, 1, 32)) == d::unusable_reason::unknown_selector);
    BOOST_TEST(d::why_unusable(record(3, 1, 3, 32)) == d::unusable_reason::unknown_mtype);
    BOOST_TEST(d::why_unusable(record(3, 1, 255, 32)) == d::unusable_reason::unknown_mtype);
}

BOOST_AUTO_TEST_CASE(digest_lengths_must_fit_the_matching_type) {
    BOOST_TEST(d::why_unusable(record(3, 1, 1, 31)) == d::unusable_reason::digest_length);
    BOOST_TEST(d::why_unusable(record(3, 1, 1, 33)) == d::unusable_reason::digest_length);
    BOOST_TEST(d::why_unusable(record(3, 1, 2, 32)) == d::unusable_reason::digest_length);
    BOOST_TEST(d::why_unusable(record(3, 1, 2, 65)) == d::unusable_reason::digest_length);
    BOOST_TEST(d::why_unusable(record(3, 1, 0, 0)) == d::unusable_reason::digest_length);
}

BOOST_AUTO_TEST_CASE(text_form_is_the_zone_file_form_capped) {
    BOOST_TEST(d::to_text(d::tlsa_record{3, 1, 1, bytes{0x0f, 0xa0}}) == "3 1 1 0fa0");
    BOOST_TEST(d::to_text(record(2, 0, 0, 100), 8) == "2 0 0 abababab...");
}

BOOST_AUTO_TEST_SUITE_END()
