// policy_cache — the MTA-STS cache decisions of RFC 8461 §5.1, sans-I/O.
//
// Owns: given the time, what the store holds for a domain and what its
// `_mta-sts` TXT record says, which policy a delivery uses and whether a
// fetch must happen first or may happen in the background:
//   - a cached policy is usable until fetched_at + max_age;
//   - TXT id equal to the cached id: use the cache, no fetch;
//   - TXT id different (or no usable cache): fetch before delivering;
//     a failed fetch falls back to the usable cached policy, else the
//     domain is treated as having no policy (§3.3, §5.1);
//   - no TXT record, or a broken one, or DNS failing: the usable cached
//     policy stays in force (a stripped record must not downgrade us); no
//     cache means no policy;
//   - a usable policy is refreshed in the background once it is within
//     refresh_window() of its expiry, so no session waits for a domain
//     that is already known.
// Must not: fetch, read the store, or log (proxy/net/policy_fetcher and the
// engine do); it decides on values only.
#pragma once

#include "proxy/sts/sts_policy.hpp"
#include "proxy/sts/sts_record.hpp"
#include "proxy/sts/tlsrpt_counts.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::sts {

// What the TXT lookup of `_mta-sts.<domain>` gave.
struct txt_lookup {
    bool answered = false;  // false: DNS failed (timeout, SERVFAIL): we do not know
    sts_record record;      // when answered
};

// A policy from the store, parsed again.
struct known_policy {
    std::string id;
    sts_policy policy;
    std::string body;  // the text it was parsed from (a report's policy-string)
    std::int64_t fetched_at = 0;
    std::int64_t expires_at = 0;
};

enum class cache_action {
    no_policy,           // nothing published and nothing cached: deliver without MTA-STS
    use_cached,          // the usable cached policy, nothing to fetch
    use_cached_refresh,  // the usable cached policy; refresh it in the background
    fetch_first,         // fetch now, then decide with after_fetch()
};
std::string_view to_string(cache_action a) noexcept;

// How long before its expiry a policy is refreshed: half its lifetime, at
// most a day (a week-long policy is refreshed on its last day).
std::int64_t refresh_window(std::uint32_t max_age) noexcept;

cache_action decide(std::int64_t now, const std::optional<known_policy>& cached, const txt_lookup& txt);

// Why a fetch gave no policy (proxy/net/policy_fetcher maps its errors here).
enum class fetch_error {
    none,
    connect,       // no address, refused, reset, DNS failure of mta-sts.<domain>
    tls,           // the handshake failed for another reason than the certificate
    certificate,   // the HTTPS certificate did not verify or did not name the host
    http_status,   // anything but 200, redirects included (RFC 8461 §3.3: not followed)
    content_type,  // not text/plain
    too_large,     // over max_policy_size
    timeout,       // the total deadline passed
    invalid,       // the body is not a valid policy (sts_policy.hpp)
};
std::string_view to_string(fetch_error e) noexcept;

// The RFC 8460 §4.3 result type a failed fetch is reported as.
result_type report_result(fetch_error e) noexcept;

// What a delivery applies, and the log's `sts=` value.
enum class sts_state {
    no_policy,     // "sts=none-published": as if the domain had no MTA-STS
    enforce,
    testing,
    none,          // the published mode none
    fetch_failed,  // no policy because the fetch failed and nothing was cached
    invalid,       // no policy because the fetched one was invalid and nothing was cached
};
std::string_view to_string(sts_state s) noexcept;

struct sts_outcome {
    sts_state state = sts_state::no_policy;
    std::optional<known_policy> policy;    // enforce, testing, none
    fetch_error fetch = fetch_error::none;  // the failure that led to fetch_failed/invalid (or a
                                            // fallback to the cache)
    bool from_cache = false;
};

// The outcome when no fetch happens (decide() said no_policy or use_cached*).
sts_outcome without_fetch(const std::optional<known_policy>& cached);

// The outcome after a fetch: the fetched policy when there is one, else the
// usable cached one, else fetch_failed / invalid.
sts_outcome after_fetch(std::int64_t now, const std::optional<known_policy>& cached,
                        const std::optional<known_policy>& fetched, fetch_error error);

}  // namespace dsproxy::sts
