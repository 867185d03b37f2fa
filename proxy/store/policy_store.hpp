// policy_store — where outbound TLS policy state lives (docs/design.md §6.4 `store`):
// MTA-STS policies, TLS-RPT counters and report bookkeeping, and the
// STARTTLS downgrade memory. One interface, two implementations:
// sqlite_store (an embedded file in the state directory, the default) and
// redis_store (one Redis shared by a fleet).
//
// Owns: the operations and their guarantees, which both implementations
// keep (tests/store runs one suite against each):
//   - a saved policy is read back whole (domain, id, body, fetch time, expiry);
//   - claim_fetch / claim_report succeed for exactly one caller, however
//     many instances race (SQLite: one transaction; Redis: SET NX), so a
//     fleet fetches a policy once and sends one report per domain per day;
//   - add_counts adds a batch atomically: a crash leaves all of it or none;
//   - the STARTTLS memory is forgotten `forget_after` seconds after it was
//     last refreshed.
// Must not: parse policies or decide anything (proxy/sts does), log (the
// caller does), or block for long: every call is bounded by the store's
// timeout and callers run it off the I/O threads.
//
// Time is passed in (UNIX seconds), never read here, so tests control it.
#pragma once

#include "proxy/sts/tlsrpt_counts.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::store {

enum class store_status {
    ok,
    unavailable,  // cannot reach the store (Redis down, file cannot be opened): temporary
    failed,       // the store answered with an error, or holds data we cannot read
};
std::string_view to_string(store_status s) noexcept;

struct store_error {
    store_status status = store_status::ok;
    std::string detail;  // one plain sentence for the log, when not ok

    bool ok() const noexcept { return status == store_status::ok; }
};

template <typename T>
struct store_result {
    T value{};
    store_error error;

    bool ok() const noexcept { return error.ok(); }
};

// An MTA-STS policy as fetched (RFC 8461 §5.1: cached until max_age).
struct cached_policy {
    std::string domain;   // the policy domain, canonical
    std::string id;       // the TXT record's id when the policy was fetched
    std::string body;     // the policy text as served (parsed again when used)
    std::int64_t fetched_at = 0;
    std::int64_t expires_at = 0;  // fetched_at + max_age

    friend bool operator==(const cached_policy&, const cached_policy&) = default;
};

// The counters of one receiving domain for one UTC day.
struct day_counts {
    std::string record;  // the `_smtp._tls` TXT record last seen for the domain that day
    std::vector<sts::tlsrpt_count> counts;  // sorted by encoded key
};

enum class report_state { none, claimed, sent };
std::string_view to_string(report_state s) noexcept;

struct report_claim {
    report_state state = report_state::none;
    std::string owner;  // the instance that claimed or sent it
};

class policy_store {
public:
    virtual ~policy_store() = default;

    // "sqlite PATH" or "redis HOST:PORT/DB", for logs.
    virtual std::string describe() const = 0;

    // MTA-STS policies.
    virtual store_result<std::optional<cached_policy>> load_policy(std::string_view domain) = 0;
    virtual store_error save_policy(const cached_policy& policy) = 0;
    // True for the one caller that may fetch `domain` now; the claim lapses
    // after `hold` seconds (a crashed fetcher never blocks the fleet).
    virtual store_result<bool> claim_fetch(std::string_view domain, std::string_view owner, std::int64_t now,
                                           std::int64_t hold) = 0;
    virtual store_error release_fetch(std::string_view domain, std::string_view owner) = 0;

    // TLS-RPT counters (RFC 8460 §4), one batch atomically. `record` is the
    // domain's `_smtp._tls` TXT record, kept for the report's destinations.
    virtual store_error add_counts(std::string_view day, std::string_view domain, std::string_view record,
                                   const std::vector<sts::tlsrpt_count>& batch) = 0;
    virtual store_result<std::vector<std::string>> report_domains(std::string_view day) = 0;
    virtual store_result<day_counts> load_counts(std::string_view day, std::string_view domain) = 0;

    // Report bookkeeping: one report per receiving domain per day.
    // True for the one caller that may send the report now; an unfinished
    // claim lapses after `hold` seconds (a sender that crashed).
    virtual store_result<bool> claim_report(std::string_view day, std::string_view domain, std::string_view owner,
                                            std::int64_t now, std::int64_t hold) = 0;
    // sent: the claim becomes "sent" for good; otherwise it is released so
    // that a later run (of any instance) tries again.
    virtual store_error finish_report(std::string_view day, std::string_view domain, std::string_view owner,
                                      bool sent) = 0;
    virtual store_result<report_claim> report_status(std::string_view day, std::string_view domain) = 0;

    // STARTTLS downgrade memory: `domain`'s MX offered STARTTLS with a
    // certificate that validated; remembered until now + forget_after.
    virtual store_error remember_starttls(std::string_view domain, std::int64_t now, std::int64_t forget_after) = 0;
    virtual store_result<bool> starttls_remembered(std::string_view domain, std::int64_t now) = 0;
};

// How long the counters of a day are kept after it: reports are sent the
// day after, and `tls-report show` can look back a week.
inline constexpr std::int64_t counter_retention_seconds = 8 * 24 * 3600;

}  // namespace dsproxy::store
