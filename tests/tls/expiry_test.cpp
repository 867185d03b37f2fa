// expiry_test — which certificates of the store get an expiry warning.
#include "test_pki.hpp"

#include "tls/certificate_expiry.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::tls;
using namespace dsproxy::tls::test;

namespace {

std::shared_ptr<const credential> lasting(const pki& ca, const std::string& name, long not_after) {
    leaf_options o;
    o.cn = name;
    o.dns = {name};
    o.not_before = -400 * day;
    o.not_after = not_after;
    return credential_of(ca.leaf(o));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(certificate_expiry)

BOOST_AUTO_TEST_CASE(warns_within_the_window_and_for_expired_soonest_first) {
    pki ca;
    certificate_store store;
    store.add(lasting(ca, "far.example", 200 * day));
    store.add(lasting(ca, "soon.example", 10 * day + 3600));
    store.add(lasting(ca, "gone.example", -2 * day - 3600));
    store.add(lasting(ca, "edge.example", 31 * day));
    const auto found = expiring_certificates(store, std::time(nullptr));
    BOOST_TEST_REQUIRE(found.size() == 2u);
    BOOST_TEST(found[0].cert->info.common_names.front() == "gone.example");
    BOOST_TEST(found[0].expired);
    BOOST_TEST(found[0].days_left == -2);
    BOOST_TEST(found[1].cert->info.common_names.front() == "soon.example");
    BOOST_TEST(!found[1].expired);
    BOOST_TEST(found[1].days_left == 10);
}

BOOST_AUTO_TEST_CASE(window_is_a_parameter) {
    pki ca;
    certificate_store store;
    store.add(lasting(ca, "soon.example", 10 * day + 3600));
    BOOST_TEST(expiring_certificates(store, std::time(nullptr), std::chrono::days(7)).empty());
    BOOST_TEST(expiring_certificates(store, std::time(nullptr), std::chrono::days(11)).size() == 1u);
    // a week later, the default window catches it as expired
    const auto later = expiring_certificates(store, std::time(nullptr) + 12 * day);
    BOOST_TEST_REQUIRE(later.size() == 1u);
    BOOST_TEST(later[0].expired);
}

BOOST_AUTO_TEST_CASE(expires_within_flags_only_the_valid_ones_inside_the_window) {
    // `cert list` says "EXPIRES in N day(s)" for these (issue 19 item 6).
    pki ca;
    const auto now = std::time(nullptr);
    BOOST_TEST(expires_within(lasting(ca, "soon.example", 10 * day + 3600)->info, now).value_or(-1) == 10);
    BOOST_TEST(!expires_within(lasting(ca, "edge.example", 31 * day)->info, now));
    BOOST_TEST(!expires_within(lasting(ca, "gone.example", -day)->info, now));  // expired: said otherwise
}

BOOST_AUTO_TEST_SUITE_END()
