// tag_list — see tag_list.hpp.
#include "proxy/sts/tag_list.hpp"

namespace dsproxy::sts {

namespace {

constexpr bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool is_alnum(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string_view trim_wsp(std::string_view s) noexcept {
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    return s;
}

// Printable ASCII or WSP: the only bytes either record may hold.
bool printable_or_wsp(std::string_view s) noexcept {
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (!is_wsp(c) && (u < 0x21 || u > 0x7e)) return false;
    }
    return true;
}

}  // namespace

bool starts_with_version(std::string_view record, std::string_view version) noexcept {
    if (record.substr(0, version.size()) != version) return false;
    return trim_wsp(record.substr(version.size())).substr(0, 1) == ";";
}

bool is_tag_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 32 || !is_alnum(name.front())) return false;
    for (const char c : name)
        if (!is_alnum(c) && c != '_' && c != '-' && c != '.') return false;
    return true;
}

bool is_tag_value(std::string_view value) noexcept {
    if (value.empty()) return false;
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e || c == '=' || c == ';') return false;
    }
    return true;
}

std::optional<std::vector<tag>> split_tags(std::string_view record, std::string_view version) {
    if (!starts_with_version(record, version) || !printable_or_wsp(record)) return std::nullopt;
    std::string_view rest = record.substr(version.size());
    std::vector<tag> out;
    // Each round: rest starts just before a delimiter ";".
    while (true) {
        rest = trim_wsp(rest);
        if (rest.empty()) break;
        if (rest.front() != ';') return std::nullopt;
        rest.remove_prefix(1);
        const auto next = rest.find(';');
        const std::string_view field = trim_wsp(rest.substr(0, next));
        if (field.empty()) {
            // Only the one optional trailing delimiter may close the record.
            if (next == std::string_view::npos) break;
            return std::nullopt;
        }
        const auto eq = field.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        const std::string_view name = field.substr(0, eq);
        const std::string_view value = field.substr(eq + 1);
        if (!is_tag_name(name) || value.empty() || is_wsp(value.front())) return std::nullopt;
        out.push_back({name, value});
        if (next == std::string_view::npos) break;
        rest = rest.substr(next);
    }
    if (out.empty()) return std::nullopt;  // 1*(delim field): at least one field
    return out;
}

}  // namespace dsproxy::sts
