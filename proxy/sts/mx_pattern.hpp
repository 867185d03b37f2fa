// mx_pattern — an `mx:` line of an MTA-STS policy and the MX hosts it allows
// (RFC 8461 §4.1).
//
// Owns: the pattern syntax (`mx.example.net` or `*.example.net`) and the
// match of an MX host name against it: case-insensitive; a wildcard stands
// for exactly one leftmost label, so `*.example.net` allows
// `mx1.example.net` but neither `example.net` nor `a.b.example.net`.
// The comparison is matching/'s RFC 6125 host rule (the same rule that later
// checks the MX certificate), so the two can never disagree; like it, a
// wildcard needs at least two labels after it (`*.net` allows nothing).
// Must not: resolve, or decide delivery (the enforcement does).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::sts {

class mx_pattern {
public:
    // ["*."] Domain, LDH labels (A-labels valid IDNA2008), no trailing dot;
    // nullopt otherwise.
    static std::optional<mx_pattern> parse(std::string_view text);

    // Canonical text: lower case, as it appears in reports ("mx-host").
    const std::string& text() const noexcept { return text_; }
    bool wildcard() const noexcept { return wildcard_; }

    // `mx_host` as DNS gave it (one trailing dot allowed, any case).
    bool matches(std::string_view mx_host) const;

    friend bool operator==(const mx_pattern&, const mx_pattern&) = default;

private:
    mx_pattern(std::string text, bool wildcard) : text_(std::move(text)), wildcard_(wildcard) {}
    std::string text_;
    bool wildcard_ = false;
};

}  // namespace dsproxy::sts
