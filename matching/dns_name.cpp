// dns_name — see dns_name.hpp.
#include "matching/dns_name.hpp"

#include <ostream>

namespace dsproxy::matching {

namespace {

bool is_ldh_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// One label of letters, digits and inner hyphens, 1..63 octets. The input is
// already lower case.
bool is_ldh_label(std::string_view label) noexcept {
    if (label.empty() || label.size() > max_label_length) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
        if (!is_ldh_char(c)) return false;
    return true;
}

// Checks a lower-case name with no trailing dot, label by label. When
// `allow_wildcard` is set, the first label may be exactly "*".
bool check_labels(std::string_view name, bool allow_wildcard, bool& wildcard) noexcept {
    wildcard = false;
    if (name.empty()) return false;
    std::size_t start = 0;
    bool first = true;
    while (true) {
        const std::size_t dot = name.find('.', start);
        const std::string_view label =
            name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (first && allow_wildcard && label == "*") {
            wildcard = true;
        } else if (!is_ldh_label(label)) {
            return false;
        }
        first = false;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return true;
}

}  // namespace

std::string_view to_string(ignore_reason reason) noexcept {
    switch (reason) {
        case ignore_reason::embedded_nul: return "embedded NUL byte";
        case ignore_reason::non_ascii: return "non-ASCII characters";
        case ignore_reason::too_long: return "longer than 253 octets";
        case ignore_reason::invalid_ldh: return "not a valid LDH host name";
        case ignore_reason::over_cap: return "over the 1024-name limit";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, ignore_reason reason) { return os << to_string(reason); }

bool canonicalize_presented(std::string_view raw, canonical_name& out, ignore_reason& why) {
    // Order matters for the reason reported: NUL and non-ASCII are the
    // attack signatures and are named first.
    for (char c : raw) {
        if (c == '\0') { why = ignore_reason::embedded_nul; return false; }
    }
    for (char c : raw) {
        if (static_cast<unsigned char>(c) >= 0x80) { why = ignore_reason::non_ascii; return false; }
    }
    std::string_view name = raw;
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // one trailing dot only
    if (name.size() > max_name_length) { why = ignore_reason::too_long; return false; }

    std::string lower(name.size(), '\0');
    for (std::size_t i = 0; i < name.size(); ++i) lower[i] = ascii_lower(name[i]);

    bool wildcard = false;
    if (!check_labels(lower, /*allow_wildcard=*/true, wildcard)) {
        why = ignore_reason::invalid_ldh;
        return false;
    }
    // A lone "*" is no host name at all.
    if (wildcard && lower.size() == 1) { why = ignore_reason::invalid_ldh; return false; }
    out.text = std::move(lower);
    out.wildcard = wildcard;
    return true;
}

bool is_ldh_host(std::string_view name) noexcept {
    bool wildcard = false;
    return name.size() <= max_name_length && check_labels(name, /*allow_wildcard=*/false, wildcard);
}

}  // namespace dsproxy::matching
