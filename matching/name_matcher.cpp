// name_matcher — see name_matcher.hpp.
#include "matching/name_matcher.hpp"

#include <ostream>

namespace dsproxy::matching {

namespace {

// Rank for "strongest rule wins": lower is stronger.
int strength(rule r) noexcept {
    switch (r) {
        case rule::exact: return 0;
        case rule::wildcard: return 1;
        case rule::one_node_deep: return 2;
    }
    return 3;
}

// True when `name` is exactly one label followed by "." + `parent`.
bool one_label_above(std::string_view name, std::string_view parent) noexcept {
    if (name.size() < parent.size() + 2) return false;
    const std::size_t cut = name.size() - parent.size();
    if (name[cut - 1] != '.' || name.substr(cut) != parent) return false;
    return name.substr(0, cut - 1).find('.') == std::string_view::npos;
}

std::optional<rule> match_domain_rules(std::string_view d, const canonical_name& n) noexcept {
    if (n.wildcard) {
        // Only "*." + D itself; a wildcard deeper or over a parent never matches.
        if (n.text.size() == d.size() + 2 && std::string_view(n.text).substr(2) == d) return rule::wildcard;
        return std::nullopt;
    }
    if (n.text == d) return rule::exact;
    if (one_label_above(n.text, d)) return rule::one_node_deep;
    return std::nullopt;
}

std::optional<rule> match_host_rules(std::string_view h, const canonical_name& n) noexcept {
    if (!n.wildcard) {
        if (n.text == h) return rule::exact;
        return std::nullopt;
    }
    const std::string_view base = std::string_view(n.text).substr(2);  // after "*."
    // RFC 6125 §6.4.3 as tightened by the test data: at least two labels
    // after the wildcard, so "*.com" never matches anything.
    if (base.find('.') == std::string_view::npos) return std::nullopt;
    if (one_label_above(h, base)) return rule::wildcard;
    return std::nullopt;
}

}  // namespace

std::string_view to_string(rule r) noexcept {
    switch (r) {
        case rule::exact: return "exact";
        case rule::wildcard: return "wildcard";
        case rule::one_node_deep: return "one-node-deep";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, rule r) { return os << to_string(r); }

std::string_view to_string(rule_set r) noexcept {
    return r == rule_set::domain ? "domain" : "host";
}

std::string_view to_string(cn_fallback f) noexcept {
    return f == cn_fallback::no_san ? "no-san" : "always";
}

std::optional<cn_fallback> parse_cn_fallback(std::string_view text) noexcept {
    if (text == "no-san") return cn_fallback::no_san;
    if (text == "always") return cn_fallback::always;
    return std::nullopt;
}

std::string_view to_string(name_source s) noexcept {
    return s == name_source::san ? "san" : "cn";
}

std::vector<const name_verdict*> match_result::ignored() const {
    std::vector<const name_verdict*> out;
    for (const auto& v : names)
        if (v.ignored) out.push_back(&v);
    return out;
}

match_result match(const reference_name& reference, const presented_names& presented,
                   const match_options& options) {
    match_result result;
    const std::string_view ref = reference.text();
    const bool use_cns = options.cns == cn_fallback::always || presented.dns_names.empty();

    std::size_t considered = 0;
    auto consider = [&](const std::string& raw, name_source source) {
        name_verdict verdict{raw, source, std::nullopt, std::nullopt};
        if (considered >= max_presented_names) {
            verdict.ignored = ignore_reason::over_cap;
            result.names.push_back(std::move(verdict));
            return;
        }
        ++considered;
        canonical_name canonical;
        ignore_reason why{};
        if (!canonicalize_presented(raw, canonical, why)) {
            verdict.ignored = why;
        } else {
            verdict.matched = options.rules == rule_set::domain ? match_domain_rules(ref, canonical)
                                                                : match_host_rules(ref, canonical);
            if (verdict.matched &&
                (!result.matched || strength(*verdict.matched) < strength(result.how))) {
                result.matched = true;
                result.how = *verdict.matched;
                result.matched_name = raw;
            }
        }
        result.names.push_back(std::move(verdict));
    };

    for (const auto& name : presented.dns_names) consider(name, name_source::san);
    if (use_cns)
        for (const auto& name : presented.common_names) consider(name, name_source::cn);
    return result;
}

}  // namespace dsproxy::matching
