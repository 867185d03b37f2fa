// policy_cache: RFC 8461 §5.1 — use until max_age, a changed id fetches, a
// failed fetch keeps the unexpired cache, refresh ahead of expiry.
#include "proxy/sts/policy_cache.hpp"
#include "proxy/sts/policy_response.hpp"
#include "tests/sts/printers.hpp"

#include <boost/test/unit_test.hpp>

namespace s = dsproxy::sts;
using s::cache_action;
using s::fetch_error;
using s::sts_state;

namespace {

constexpr std::int64_t t0 = 1'800'000'000;

s::known_policy known(std::string id, std::string_view body, std::int64_t fetched_at) {
    auto parsed = s::parse_policy(body);
    BOOST_REQUIRE(parsed.policy.has_value());
    return {std::move(id), *parsed.policy, std::string(body), fetched_at, fetched_at + parsed.policy->max_age};
}

const std::string_view week_enforce = "version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 604800\n";
const std::string_view short_testing = "version: STSv1\nmode: testing\nmx: mx.example.net\nmax_age: 600\n";

s::txt_lookup txt(std::string id) { return {true, {s::record_status::ok, std::move(id)}}; }
s::txt_lookup txt_status(s::record_status st) { return {true, {st, {}}}; }
const s::txt_lookup dns_failed{false, {}};

}  // namespace

BOOST_AUTO_TEST_CASE(nothing_cached) {
    BOOST_TEST(s::decide(t0, std::nullopt, txt("a")) == cache_action::fetch_first);
    BOOST_TEST(s::decide(t0, std::nullopt, txt_status(s::record_status::none)) == cache_action::no_policy);
    BOOST_TEST(s::decide(t0, std::nullopt, txt_status(s::record_status::multiple)) == cache_action::no_policy);
    BOOST_TEST(s::decide(t0, std::nullopt, txt_status(s::record_status::invalid)) == cache_action::no_policy);
    BOOST_TEST(s::decide(t0, std::nullopt, dns_failed) == cache_action::no_policy);
    BOOST_TEST(s::without_fetch(std::nullopt).state == sts_state::no_policy);
}

BOOST_AUTO_TEST_CASE(same_id_uses_the_cache_until_max_age) {
    const auto cached = std::optional(known("a", week_enforce, t0));
    BOOST_TEST(s::decide(t0 + 10, cached, txt("a")) == cache_action::use_cached);
    BOOST_TEST(s::decide(t0 + 604800 - 86401, cached, txt("a")) == cache_action::use_cached);
    // Within the last day: refreshed in the background, still used.
    BOOST_TEST(s::decide(t0 + 604800 - 86400, cached, txt("a")) == cache_action::use_cached_refresh);
    BOOST_TEST(s::decide(t0 + 604799, cached, txt("a")) == cache_action::use_cached_refresh);
    // Expired: fetched again before use.
    BOOST_TEST(s::decide(t0 + 604800, cached, txt("a")) == cache_action::fetch_first);
    const auto out = s::without_fetch(cached);
    BOOST_TEST(out.state == sts_state::enforce);
    BOOST_TEST(out.from_cache);
    BOOST_TEST(out.policy->id == "a");
}

BOOST_AUTO_TEST_CASE(refresh_window_is_half_the_life_at_most_a_day) {
    BOOST_TEST(s::refresh_window(600) == 300);
    BOOST_TEST(s::refresh_window(604800) == 86400);
    BOOST_TEST(s::refresh_window(0) == 0);
    const auto cached = std::optional(known("a", short_testing, t0));
    BOOST_TEST(s::decide(t0 + 299, cached, txt("a")) == cache_action::use_cached);
    BOOST_TEST(s::decide(t0 + 300, cached, txt("a")) == cache_action::use_cached_refresh);
}

BOOST_AUTO_TEST_CASE(changed_id_fetches_first) {
    const auto cached = std::optional(known("a", week_enforce, t0));
    BOOST_TEST(s::decide(t0 + 10, cached, txt("b")) == cache_action::fetch_first);
}

BOOST_AUTO_TEST_CASE(missing_or_broken_record_keeps_the_unexpired_cache) {
    const auto cached = std::optional(known("a", week_enforce, t0));
    for (const auto& lookup : {txt_status(s::record_status::none), txt_status(s::record_status::invalid),
                               txt_status(s::record_status::multiple), dns_failed}) {
        BOOST_TEST(s::decide(t0 + 10, cached, lookup) == cache_action::use_cached);
        BOOST_TEST(s::decide(t0 + 604800, cached, lookup) == cache_action::no_policy);  // expired
    }
}

BOOST_AUTO_TEST_CASE(fetch_results) {
    const auto cached = std::optional(known("a", week_enforce, t0));
    const auto fetched = std::optional(known("b", short_testing, t0 + 50));
    auto out = s::after_fetch(t0 + 50, cached, fetched, fetch_error::none);
    BOOST_TEST(out.state == sts_state::testing);
    BOOST_TEST(!out.from_cache);
    BOOST_TEST(out.policy->id == "b");

    // A failed fetch keeps the unexpired cached policy in force.
    out = s::after_fetch(t0 + 50, cached, std::nullopt, fetch_error::connect);
    BOOST_TEST(out.state == sts_state::enforce);
    BOOST_TEST(out.from_cache);
    BOOST_TEST(out.fetch == fetch_error::connect);
    out = s::after_fetch(t0 + 50, cached, std::nullopt, fetch_error::invalid);
    BOOST_TEST(out.state == sts_state::enforce);

    // Nothing usable cached: no policy, and why.
    out = s::after_fetch(t0 + 604800, cached, std::nullopt, fetch_error::timeout);
    BOOST_TEST(out.state == sts_state::fetch_failed);
    BOOST_TEST(!out.policy.has_value());
    out = s::after_fetch(t0, std::nullopt, std::nullopt, fetch_error::invalid);
    BOOST_TEST(out.state == sts_state::invalid);
}

BOOST_AUTO_TEST_CASE(fetch_errors_map_to_report_result_types) {
    BOOST_TEST(s::to_string(s::report_result(fetch_error::certificate)) == "sts-webpki-invalid");
    BOOST_TEST(s::to_string(s::report_result(fetch_error::invalid)) == "sts-policy-invalid");
    for (const auto e : {fetch_error::connect, fetch_error::tls, fetch_error::http_status, fetch_error::content_type,
                         fetch_error::too_large, fetch_error::timeout})
        BOOST_TEST(s::to_string(s::report_result(e)) == "sts-policy-fetch-error");
}

BOOST_AUTO_TEST_CASE(counter_keys_round_trip) {
    s::tlsrpt_key k;
    k.type = s::policy_type::sts;
    k.policy_text = "version: STSv1\nmode: enforce\n\"quoted\"\n";
    k.failure = s::result_type::certificate_host_mismatch;
    k.sending_ip = "192.0.2.1";
    k.receiving_mx = "mx1.example.net";
    k.receiving_ip = "2001:db8::1";
    BOOST_TEST((s::decode_key(s::encode(k)) == std::optional(k)));
    const s::tlsrpt_key success;
    BOOST_TEST((s::decode_key(s::encode(success)) == std::optional(success)));
    BOOST_TEST(s::encode(k) != s::encode(success));
    for (const char* bad : {"", "[]", "{}", "[\"sts\",\"\",\"bogus\",\"\",\"\",\"\"]", "[\"x\",\"\",\"success\",\"\",\"\",\"\"]",
                            "[\"sts\",1,\"success\",\"\",\"\",\"\"]"})
        BOOST_TEST(!s::decode_key(bad).has_value(), bad);
    BOOST_TEST(s::utc_day(0) == "1970-01-01");
    BOOST_TEST(s::utc_day(1'800'000'000) == "2027-01-15");
    BOOST_TEST(s::utc_day(951'868'799) == "2000-02-29");
}

BOOST_AUTO_TEST_CASE(policy_responses_are_judged_strictly) {
    const std::string body = "version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 86400\n";
    auto j = s::judge_policy_response(200, "text/plain", body, "id1", t0);
    BOOST_REQUIRE(j.policy.has_value());
    BOOST_TEST(j.policy->id == "id1");
    BOOST_TEST(j.policy->fetched_at == t0);
    BOOST_TEST(j.policy->expires_at == t0 + 86400);
    BOOST_TEST(j.policy->body == body);
    BOOST_TEST(s::judge_policy_response(200, "Text/Plain; charset=utf-8", body, "i", t0).policy.has_value());
    BOOST_TEST(s::judge_policy_response(200, " text/plain ;charset=\"x\"", body, "i", t0).policy.has_value());
    for (const unsigned status : {301u, 302u, 304u, 404u, 500u, 204u})
        BOOST_TEST(s::judge_policy_response(status, "text/plain", body, "i", t0).error == fetch_error::http_status);
    for (const char* type : {"", "text/html", "text/plainx", "application/octet-stream", "text/plain-ish; x"})
        BOOST_TEST(s::judge_policy_response(200, type, body, "i", t0).error == fetch_error::content_type, type);
    j = s::judge_policy_response(200, "text/plain", "version: STSv1\nmode: enforce\nmax_age: 1\n", "i", t0);
    BOOST_TEST(j.error == fetch_error::invalid);
    BOOST_TEST(!j.policy.has_value());
    BOOST_TEST(j.detail == "policy invalid: no mx for mode enforce or testing");
    BOOST_TEST(s::to_string(s::policy_url("Example.NET")) == "https://mta-sts.Example.NET/.well-known/mta-sts.txt");
}
