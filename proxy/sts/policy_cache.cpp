// policy_cache — see policy_cache.hpp.
#include "proxy/sts/policy_cache.hpp"

#include <algorithm>

namespace dsproxy::sts {

namespace {

bool usable(std::int64_t now, const std::optional<known_policy>& p) { return p && now < p->expires_at; }

sts_state state_of(sts_mode m) noexcept {
    switch (m) {
        case sts_mode::enforce: return sts_state::enforce;
        case sts_mode::testing: return sts_state::testing;
        case sts_mode::none: return sts_state::none;
    }
    return sts_state::none;
}

}  // namespace

std::string_view to_string(cache_action a) noexcept {
    switch (a) {
        case cache_action::no_policy: return "no-policy";
        case cache_action::use_cached: return "use-cached";
        case cache_action::use_cached_refresh: return "use-cached-refresh";
        case cache_action::fetch_first: return "fetch-first";
    }
    return "?";
}

std::string_view to_string(fetch_error e) noexcept {
    switch (e) {
        case fetch_error::none: return "none";
        case fetch_error::connect: return "connect";
        case fetch_error::tls: return "tls";
        case fetch_error::certificate: return "certificate";
        case fetch_error::http_status: return "http-status";
        case fetch_error::content_type: return "content-type";
        case fetch_error::too_large: return "too-large";
        case fetch_error::timeout: return "timeout";
        case fetch_error::invalid: return "invalid";
    }
    return "?";
}

std::string_view to_string(sts_state s) noexcept {
    switch (s) {
        case sts_state::no_policy: return "none-published";
        case sts_state::enforce: return "enforce";
        case sts_state::testing: return "testing";
        case sts_state::none: return "none";
        case sts_state::fetch_failed: return "fetch-failed";
        case sts_state::invalid: return "invalid";
    }
    return "?";
}

result_type report_result(fetch_error e) noexcept {
    switch (e) {
        case fetch_error::certificate: return result_type::sts_webpki_invalid;
        case fetch_error::invalid: return result_type::sts_policy_invalid;
        default: return result_type::sts_policy_fetch_error;
    }
}

std::int64_t refresh_window(std::uint32_t max_age) noexcept {
    return std::min<std::int64_t>(max_age / 2, 86400);
}

cache_action decide(std::int64_t now, const std::optional<known_policy>& cached, const txt_lookup& txt) {
    const bool have = usable(now, cached);
    const bool published = txt.answered && txt.record.status == record_status::ok;
    if (published && (!have || cached->id != txt.record.id)) return cache_action::fetch_first;
    if (!have) return cache_action::no_policy;
    const bool due = now >= cached->expires_at - refresh_window(cached->policy.max_age);
    return due ? cache_action::use_cached_refresh : cache_action::use_cached;
}

sts_outcome without_fetch(const std::optional<known_policy>& cached) {
    if (!cached) return {};
    return {state_of(cached->policy.mode), cached, fetch_error::none, true};
}

sts_outcome after_fetch(std::int64_t now, const std::optional<known_policy>& cached,
                        const std::optional<known_policy>& fetched, fetch_error error) {
    if (fetched) return {state_of(fetched->policy.mode), fetched, fetch_error::none, false};
    if (usable(now, cached)) return {state_of(cached->policy.mode), cached, error, true};
    return {error == fetch_error::invalid ? sts_state::invalid : sts_state::fetch_failed, std::nullopt, error, false};
}

}  // namespace dsproxy::sts
