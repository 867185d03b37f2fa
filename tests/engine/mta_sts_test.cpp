// mta_sts: how an MTA-STS policy enters the next-hop decision (RFC 8461 §4,
// §5) — the TXT answer's meaning, the store row, which MX hosts a policy
// allows, the requirement it publishes, the report's result type, the log value.
#include "proxy/engine/mta_sts.hpp"

#include <boost/test/unit_test.hpp>

namespace e = dsproxy::engine;
namespace s = dsproxy::sts;
namespace r = dsproxy::routing;
namespace t = dsproxy::tls;

namespace {

std::vector<unsigned char> txt_rdata(std::string_view text) {
    std::vector<unsigned char> out{static_cast<unsigned char>(text.size())};
    out.insert(out.end(), text.begin(), text.end());
    return out;
}

r::rdata_answer answer(r::dns_status status, std::vector<std::string_view> records = {}) {
    r::rdata_answer a;
    a.status = status;
    for (auto rec : records) a.rdata.push_back(txt_rdata(rec));
    return a;
}

s::sts_outcome outcome(s::sts_state state, std::string_view body, std::string id = "20261203") {
    s::sts_outcome o;
    o.state = state;
    auto parsed = s::parse_policy(body);
    BOOST_REQUIRE(parsed.policy);
    o.policy = s::known_policy{std::move(id), *parsed.policy, std::string(body), 100, 100 + parsed.policy->max_age};
    return o;
}

const std::string_view enforce_body = "version: STSv1\nmode: enforce\nmx: mx1.example.net\nmx: *.backup.example.net\nmax_age: 86400\n";
const std::string_view testing_body = "version: STSv1\nmode: testing\nmx: mx1.example.net\nmax_age: 86400\n";
const std::string_view none_body = "version: STSv1\nmode: none\nmax_age: 86400\n";
const std::vector<std::string> route{"mx1.example.net.", "evil.example.org", "a.backup.example.net", "a.b.backup.example.net"};

}  // namespace

BOOST_AUTO_TEST_CASE(txt_answers) {
    auto one = e::txt_lookup_of(answer(r::dns_status::ok, {"v=STSv1; id=abc123;", "v=spf1 -all"}));
    BOOST_TEST(one.answered);
    BOOST_TEST((one.record.status == s::record_status::ok));
    BOOST_TEST(one.record.id == "abc123");
    auto two = e::txt_lookup_of(answer(r::dns_status::ok, {"v=STSv1; id=a;", "v=STSv1; id=b;"}));
    BOOST_TEST((two.record.status == s::record_status::multiple));
    for (auto st : {r::dns_status::nxdomain, r::dns_status::nodata}) {
        auto none = e::txt_lookup_of(answer(st));
        BOOST_TEST(none.answered);
        BOOST_TEST((none.record.status == s::record_status::none));
    }
    // A failure says nothing: the cache decides alone (a stripped answer
    // must not downgrade a known policy).
    for (auto st : {r::dns_status::servfail, r::dns_status::timeout, r::dns_status::bogus, r::dns_status::failure})
        BOOST_TEST(!e::txt_lookup_of(answer(st)).answered);
}

BOOST_AUTO_TEST_CASE(store_rows) {
    const auto o = outcome(s::sts_state::enforce, enforce_body);
    const auto row = e::row_of("example.net", *o.policy);
    BOOST_TEST(row.domain == "example.net");
    BOOST_TEST(row.expires_at == 100 + 86400);
    const auto back = e::known_of(row);
    BOOST_REQUIRE(back);
    BOOST_TEST(back->id == "20261203");
    BOOST_TEST((back->policy == o.policy->policy));
    auto broken = row;
    broken.body = "version: STSv2\n";
    BOOST_TEST(!e::known_of(broken));
}

BOOST_AUTO_TEST_CASE(enforce_uses_only_listed_hosts) {
    const auto a = e::apply_policy(outcome(s::sts_state::enforce, enforce_body), route);
    BOOST_TEST((a.requirement == e::destination_requirement::enforce));
    BOOST_TEST(a.check_certificate);
    BOOST_TEST(a.id == "20261203");
    BOOST_TEST(a.hosts == (std::vector<std::size_t>{0, 2}));
    BOOST_TEST(a.not_listed == (std::vector<std::string>{"evil.example.org", "a.b.backup.example.net"}));
    // No listed host: nothing to deliver to (the relay defers).
    const auto none_left = e::apply_policy(outcome(s::sts_state::enforce, enforce_body), {"mx.other.example"});
    BOOST_TEST(none_left.hosts.empty());
    BOOST_TEST((none_left.requirement == e::destination_requirement::enforce));
}

BOOST_AUTO_TEST_CASE(enforce_keeps_a_host_dane_authenticates) {
    // RFC 8461 §2: DANE takes precedence on a host whose TLSA records
    // authenticate it; the policy does not drop it (still named unlisted).
    const auto a = e::apply_policy(outcome(s::sts_state::enforce, enforce_body), route, {false, true, false, false});
    BOOST_TEST(a.hosts == (std::vector<std::size_t>{0, 1, 2}));
    BOOST_TEST(a.not_listed == (std::vector<std::string>{"evil.example.org", "a.b.backup.example.net"}));
}

BOOST_AUTO_TEST_CASE(testing_uses_every_host_and_reports) {
    const auto a = e::apply_policy(outcome(s::sts_state::testing, testing_body), route);
    BOOST_TEST((a.requirement == e::destination_requirement::testing));
    BOOST_TEST(a.check_certificate);
    BOOST_TEST(a.hosts == (std::vector<std::size_t>{0, 1, 2, 3}));
    BOOST_TEST(a.not_listed.size() == 3u);
}

BOOST_AUTO_TEST_CASE(no_policy_changes_nothing) {
    for (auto st : {s::sts_state::no_policy, s::sts_state::fetch_failed, s::sts_state::invalid}) {
        s::sts_outcome o;
        o.state = st;
        const auto a = e::apply_policy(o, route);
        BOOST_TEST((a.requirement == e::destination_requirement::none));
        BOOST_TEST(!a.check_certificate);
        BOOST_TEST(a.hosts.size() == route.size());
    }
    const auto none = e::apply_policy(outcome(s::sts_state::none, none_body), route);
    BOOST_TEST((none.requirement == e::destination_requirement::none));
    BOOST_TEST(!none.check_certificate);
    BOOST_TEST(none.hosts.size() == route.size());
    BOOST_TEST(none.not_listed.empty());
}

BOOST_AUTO_TEST_CASE(the_certificate_check_names_the_mx_host) {
    const auto req = e::sts_verify_request("mx1.example.net");
    BOOST_TEST(req.check_chain);
    BOOST_REQUIRE(req.host);
    BOOST_TEST(req.host->text() == "mx1.example.net");
    BOOST_TEST(!req.domain);
}

BOOST_AUTO_TEST_CASE(failures_as_report_result_types) {
    t::verification_result v;
    v.chain = t::chain_verdict::expired;
    BOOST_TEST((e::report_failure(v) == s::result_type::certificate_expired));
    v.chain = t::chain_verdict::untrusted;
    BOOST_TEST((e::report_failure(v) == s::result_type::certificate_not_trusted));
    v.chain = t::chain_verdict::revoked;
    BOOST_TEST((e::report_failure(v) == s::result_type::validation_failure));
    v.chain = t::chain_verdict::ok;
    v.host_match = dsproxy::matching::match_result{};
    v.host_match->matched = false;
    BOOST_TEST((e::report_failure(v) == s::result_type::certificate_host_mismatch));
}

BOOST_AUTO_TEST_CASE(log_values) {
    BOOST_TEST(e::sts_log_value(false, s::sts_state::no_policy, std::nullopt) == "off");
    BOOST_TEST(e::sts_log_value(true, s::sts_state::no_policy, std::nullopt) == "none-published");
    BOOST_TEST(e::sts_log_value(true, s::sts_state::fetch_failed, true) == "fetch-failed");
    BOOST_TEST(e::sts_log_value(true, s::sts_state::enforce, true) == "enforce-ok");
    BOOST_TEST(e::sts_log_value(true, s::sts_state::enforce, std::nullopt) == "enforce-failed");
    BOOST_TEST(e::sts_log_value(true, s::sts_state::testing, false) == "testing-failed");
    BOOST_TEST(e::sts_log_value(true, s::sts_state::testing, true) == "testing-ok");
}
