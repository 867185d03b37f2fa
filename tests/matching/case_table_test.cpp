// Runs every row of the public case table (shared test data, copied into the
// repo) and of dsproxy's own table through the matcher.
#include "case_table.hpp"

#include "matching/name_matcher.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>

namespace dsproxy::test {
// Boost.Test prints dataset samples when a case fails.
std::ostream& operator<<(std::ostream& os, const match_case& c) {
    return os << c.file.substr(c.file.rfind('/') + 1) << ':' << c.line << " (" << c.note << ')';
}
}  // namespace dsproxy::test

namespace {

using dsproxy::test::match_case;
namespace m = dsproxy::matching;

void check_case(const match_case& c) {
    BOOST_TEST_CONTEXT(c) {
        BOOST_TEST_REQUIRE((c.kind == "domain" || c.kind == "host"));
        const auto fallback = m::parse_cn_fallback(c.cn_mode);
        BOOST_TEST_REQUIRE(fallback.has_value());

        // A reference that is not a valid name must match nothing; the
        // matcher reports it as an error instead, which counts as nomatch.
        const auto reference = m::reference_name::parse(c.reference);
        if (!reference) {
            BOOST_TEST(!c.expect_match);
            return;
        }
        m::presented_names names{c.dns_names, c.cns};
        const auto result = m::match(*reference, names,
                                     {c.kind == "domain" ? m::rule_set::domain : m::rule_set::host, *fallback});
        BOOST_TEST(result.matched == c.expect_match);
        if (c.expect_match && result.matched) {
            BOOST_TEST(std::string(m::to_string(result.how)) == c.rule);
        }
    }
}

const std::vector<match_case> public_cases =
    dsproxy::test::load_cases(DSPROXY_TEST_DATA "/matching_public.tsv");
const std::vector<match_case> own_cases =
    dsproxy::test::load_cases(DSPROXY_TEST_DATA "/matching_dsproxy.tsv");

}  // namespace

BOOST_AUTO_TEST_SUITE(case_tables)

BOOST_DATA_TEST_CASE(public_table, boost::unit_test::data::make(public_cases), c) { check_case(c); }
BOOST_DATA_TEST_CASE(dsproxy_table, boost::unit_test::data::make(own_cases), c) { check_case(c); }

BOOST_AUTO_TEST_CASE(tables_are_not_empty) {
    BOOST_TEST(public_cases.size() >= 85u);
    BOOST_TEST(own_cases.size() >= 40u);
}

BOOST_AUTO_TEST_SUITE_END()
