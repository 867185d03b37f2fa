// sts_policy — the MTA-STS policy file of RFC 8461 §3.2, parsed strictly.
//
// Owns: the policy grammar and its one result: a whole policy or a named
// error, never a partial policy. A policy is lines of `name: value`,
// separated by LF or CRLF:
//   version: STSv1                       required, once
//   mode: enforce | testing | none       required, once
//   max_age: 1..10 digits <= 31557600    required, once (seconds)
//   mx: ["*."] Domain                    once per allowed pattern; at least
//                                        one unless mode is none
// Extension fields `name: value` ((ALPHA/DIGIT) *31(ALPHA/DIGIT/_/-/.),
// printable UTF-8) are ignored as §3.2 requires; names and the three
// keywords are case-sensitive (%s in the ABNF). Empty lines, a repeated
// singleton field, a line without ": ", control characters or invalid
// UTF-8 are errors.
// Must not: fetch (proxy/net/policy_fetcher), decide delivery, or log.
//
// Limits: the fetcher stops at 64 KiB (§3.3 gives no limit; postfix's
// resolver and Exchange use 64 KiB too); at most max_mx_patterns mx lines.
#pragma once

#include "proxy/sts/mx_pattern.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::sts {

inline constexpr std::size_t max_policy_size = 64 * 1024;
inline constexpr std::uint32_t max_policy_age = 31557600;  // RFC 8461 §3.2: about one year
inline constexpr std::size_t max_mx_patterns = 128;

enum class sts_mode { enforce, testing, none };
std::string_view to_string(sts_mode m) noexcept;

enum class policy_error {
    none,
    too_large,         // over max_policy_size
    bad_text,          // control characters, a lone CR, or invalid UTF-8
    empty_line,        // a blank line inside the policy
    bad_line,          // not `name: value`
    duplicate_field,   // version, mode or max_age twice
    bad_version,       // version other than STSv1
    bad_mode,          // mode other than enforce, testing, none
    bad_max_age,       // not 1..10 digits, or over max_policy_age
    bad_mx,            // an mx value that is not ["*."] Domain
    too_many_mx,       // over max_mx_patterns
    missing_version,
    missing_mode,
    missing_max_age,
    missing_mx,        // enforce or testing without any mx
};
std::string_view to_string(policy_error e) noexcept;

struct sts_policy {
    sts_mode mode = sts_mode::none;
    std::uint32_t max_age = 0;  // seconds
    std::vector<mx_pattern> mx;

    // True when `mx_host` matches one of the patterns (§4.1).
    bool allows(std::string_view mx_host) const;

    friend bool operator==(const sts_policy&, const sts_policy&) = default;
};

struct policy_parse {
    std::optional<sts_policy> policy;  // set exactly when error == none
    policy_error error = policy_error::none;
    std::size_t line = 0;              // 1-based line of the error, 0 when it is about the whole text
};

policy_parse parse_policy(std::string_view text);

// The policy's lines without line ends, as a TLS report's "policy-string"
// holds them (RFC 8460 §4.4). Only for text that parse_policy accepted.
std::vector<std::string> policy_lines(std::string_view text);

}  // namespace dsproxy::sts
