// matching_fuzz — libFuzzer target for the name matcher (docs/design.md §5).
//
// Input layout: byte 0 selects rule set and CN mode; the rest is split on
// '\n' into the reference (first piece) and presented names (the others;
// a piece starting with "CN=" is a subject CN). Invariants checked:
//   - no crash, no sanitizer report;
//   - a match always names a presented name that was given;
//   - the winning name was not ignored, and its verdict has the winning rule;
//   - exact implies equality with the reference after normalisation;
//   - one-node-deep only under domain rules.
#include "matching/name_matcher.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace m = dsproxy::matching;

namespace {

std::string canonical(const std::string& raw) {
    m::canonical_name c;
    m::ignore_reason why{};
    if (!m::canonicalize_presented(raw, c, why)) std::abort();  // the winner must be valid
    return c.text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const m::match_options options{(data[0] & 1) ? m::rule_set::host : m::rule_set::domain,
                                   (data[0] & 2) ? m::cn_fallback::always : m::cn_fallback::no_san};
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    std::string_view reference_text;
    m::presented_names presented;
    std::size_t start = 0;
    bool first = true;
    while (start <= input.size()) {
        const auto nl = input.find('\n', start);
        const std::string_view piece = input.substr(start, nl == std::string_view::npos ? nl : nl - start);
        if (first)
            reference_text = piece;
        else if (piece.substr(0, 3) == "CN=")
            presented.common_names.emplace_back(piece.substr(3));
        else
            presented.dns_names.emplace_back(piece);
        first = false;
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }

    const auto reference = m::reference_name::parse(reference_text);
    if (!reference) return 0;
    const auto result = m::match(*reference, presented, options);
    if (!result.matched) return 0;

    // The winner is one of the names given (not only one the matcher reports):
    // a SAN, or a CN when CNs count.
    bool given = false;
    for (const auto& n : presented.dns_names) given = given || n == result.matched_name;
    for (const auto& n : presented.common_names) given = given || n == result.matched_name;
    if (!given) std::abort();
    bool found = false;
    for (const auto& v : result.names) {
        if (v.name == result.matched_name && v.matched == result.how) found = true;
        if (v.ignored && v.matched) std::abort();
    }
    if (!found) std::abort();
    if (result.how == m::rule::exact && canonical(result.matched_name) != reference->text()) std::abort();
    if (result.how == m::rule::one_node_deep && options.rules != m::rule_set::domain) std::abort();
    if (result.how == m::rule::wildcard && canonical(result.matched_name).substr(0, 2) != "*.") std::abort();
    return 0;
}
