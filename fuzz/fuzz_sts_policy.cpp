// sts_policy_fuzz — libFuzzer target for the MTA-STS policy parser
// (RFC 8461 §3.2, proxy/sts/sts_policy).
//
// Input: the policy body as fetched. Invariants checked:
//   - no crash, no sanitizer report;
//   - a policy exactly when the error is none, never a partial one;
//   - an accepted policy obeys the rules (max_age bound, mx for enforce and
//     testing, at most max_mx_patterns) and survives a round trip: printed
//     back in canonical form it parses to the same policy;
//   - every accepted mx pattern re-parses to itself and allows a host made
//     from it.
#include "proxy/sts/sts_policy.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace s = dsproxy::sts;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto r = s::parse_policy(text);
    if (r.policy.has_value() != (r.error == s::policy_error::none)) std::abort();
    if (!r.policy) return 0;
    const auto& p = *r.policy;
    if (p.max_age > s::max_policy_age || p.mx.size() > s::max_mx_patterns) std::abort();
    if (p.mode != s::sts_mode::none && p.mx.empty()) std::abort();

    std::string printed = "version: STSv1\nmode: " + std::string(s::to_string(p.mode)) + "\n";
    for (const auto& m : p.mx) {
        const auto again = s::mx_pattern::parse(m.text());
        if (!again || !(*again == m)) std::abort();
        const std::string host = m.wildcard() ? "mx1" + m.text().substr(1) : m.text();
        // "*.tld" patterns allow nothing (mx_pattern.hpp); all others allow their own host.
        const bool one_label_after_wildcard = m.wildcard() && m.text().find('.', 2) == std::string::npos;
        if (!one_label_after_wildcard && !m.matches(host)) std::abort();
        printed += "mx: " + m.text() + "\n";
    }
    printed += "max_age: " + std::to_string(p.max_age) + "\n";
    const auto round = s::parse_policy(printed);
    if (!round.policy || !(*round.policy == p)) std::abort();
    return 0;
}
