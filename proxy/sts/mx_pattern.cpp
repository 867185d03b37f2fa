// mx_pattern — see mx_pattern.hpp.
#include "proxy/sts/mx_pattern.hpp"

#include "matching/dns_name.hpp"
#include "matching/idn.hpp"
#include "matching/name_matcher.hpp"

namespace dsproxy::sts {

std::optional<mx_pattern> mx_pattern::parse(std::string_view text) {
    if (text.empty() || text.back() == '.') return std::nullopt;
    matching::canonical_name name;
    matching::ignore_reason why{};
    if (!matching::canonicalize_presented(text, name, why)) return std::nullopt;
    // A bare "*" or a "*" that is the only label before a TLD-less rest is
    // not ["*."] Domain.
    if (name.wildcard && name.text.size() < 3) return std::nullopt;
    // The part after "*." must be a host name matches() can compare with:
    // an "xn--" label that is not valid IDNA2008 would parse here and then
    // allow no MX host at all (found by fuzz_sts_policy).
    const auto base = matching::reference_name::parse(name.wildcard ? name.text.substr(2) : name.text);
    if (!base || base->text() != (name.wildcard ? name.text.substr(2) : name.text)) return std::nullopt;
    return mx_pattern(std::move(name.text), name.wildcard);
}

bool mx_pattern::matches(std::string_view mx_host) const {
    // MX targets are A-labels on the wire: raw non-ASCII bytes never match.
    // reference_name::parse lower-cases the name and refuses anything that
    // is not a host name.
    for (const char c : mx_host)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    const auto reference = matching::reference_name::parse(mx_host);
    if (!reference) return false;
    matching::presented_names presented;
    presented.dns_names.push_back(text_);
    const auto result = matching::match(*reference, presented, {matching::rule_set::host, matching::cn_fallback::no_san});
    return result.matched && result.how != matching::rule::one_node_deep;
}

}  // namespace dsproxy::sts
