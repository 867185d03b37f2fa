// sts_policy — see sts_policy.hpp.
#include "proxy/sts/sts_policy.hpp"

#include "proxy/smtp/address.hpp"
#include "proxy/sts/tag_list.hpp"

#include <array>
#include <utility>

namespace dsproxy::sts {

namespace {

constexpr bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_wsp(std::string_view s) noexcept {
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    return s;
}

// Only WSP and line ends among the control characters; no DEL.
bool clean_text(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto u = static_cast<unsigned char>(text[i]);
        if (u == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')) return false;
        if ((u < 0x20 && u != '\t' && u != '\r' && u != '\n') || u == 0x7f) return false;
    }
    return smtp::valid_utf8(text);
}

// The text split at LF, one CR before each LF dropped. A final line end is
// allowed (and the WSP after it); any other empty line is not.
std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (true) {
        const auto nl = text.find('\n', start);
        std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    if (lines.size() > 1 && trim_wsp(lines.back()).empty()) lines.pop_back();
    return lines;
}

std::optional<std::uint32_t> parse_max_age(std::string_view v) noexcept {
    if (v.empty() || v.size() > 10) return std::nullopt;  // 1*10DIGIT
    std::uint64_t value = 0;
    for (const char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > max_policy_age) return std::nullopt;
    return static_cast<std::uint32_t>(value);
}

// The mode keywords (case-sensitive); one table for parsing and printing.
constexpr std::array<std::pair<std::string_view, sts_mode>, 3> mode_names{{
    {"enforce", sts_mode::enforce},
    {"testing", sts_mode::testing},
    {"none", sts_mode::none},
}};

std::optional<sts_mode> parse_mode(std::string_view v) noexcept {
    for (const auto& [name, mode] : mode_names)
        if (name == v) return mode;
    return std::nullopt;
}

// Which singleton fields were seen, in the order of the enum below.
enum field { version_field, mode_field, max_age_field, field_count };

}  // namespace

std::string_view to_string(sts_mode m) noexcept {
    for (const auto& [name, mode] : mode_names)
        if (mode == m) return name;
    return "?";
}

std::string_view to_string(policy_error e) noexcept {
    switch (e) {
        case policy_error::none: return "none";
        case policy_error::too_large: return "policy over 64 KiB";
        case policy_error::bad_text: return "control character or invalid UTF-8";
        case policy_error::empty_line: return "empty line";
        case policy_error::bad_line: return "line is not 'name: value'";
        case policy_error::duplicate_field: return "field repeated";
        case policy_error::bad_version: return "version is not STSv1";
        case policy_error::bad_mode: return "mode is not enforce, testing or none";
        case policy_error::bad_max_age: return "max_age is not a number of seconds up to 31557600";
        case policy_error::bad_mx: return "mx is not a host name or *. and a domain";
        case policy_error::too_many_mx: return "more than 128 mx patterns";
        case policy_error::missing_version: return "no version";
        case policy_error::missing_mode: return "no mode";
        case policy_error::missing_max_age: return "no max_age";
        case policy_error::missing_mx: return "no mx for mode enforce or testing";
    }
    return "?";
}

bool sts_policy::allows(std::string_view mx_host) const {
    for (const auto& p : mx)
        if (p.matches(mx_host)) return true;
    return false;
}

policy_parse parse_policy(std::string_view text) {
    const auto fail = [](policy_error e, std::size_t line) { return policy_parse{std::nullopt, e, line}; };
    if (text.size() > max_policy_size) return fail(policy_error::too_large, 0);
    if (!clean_text(text)) return fail(policy_error::bad_text, 0);

    sts_policy policy;
    std::array<bool, field_count> seen{};
    const auto lines = split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::size_t n = i + 1;
        const std::string_view line = trim_wsp(lines[i]);
        if (line.empty()) return fail(policy_error::empty_line, n);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) return fail(policy_error::bad_line, n);
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = trim_wsp(line.substr(colon + 1));
        if (!is_tag_name(name)) return fail(policy_error::bad_line, n);

        const auto once = [&](field f) {
            if (seen[f]) return false;
            seen[f] = true;
            return true;
        };
        if (name == "version") {
            if (!once(version_field)) return fail(policy_error::duplicate_field, n);
            if (value != "STSv1") return fail(policy_error::bad_version, n);
        } else if (name == "mode") {
            if (!once(mode_field)) return fail(policy_error::duplicate_field, n);
            const auto mode = parse_mode(value);
            if (!mode) return fail(policy_error::bad_mode, n);
            policy.mode = *mode;
        } else if (name == "max_age") {
            if (!once(max_age_field)) return fail(policy_error::duplicate_field, n);
            const auto age = parse_max_age(value);
            if (!age) return fail(policy_error::bad_max_age, n);
            policy.max_age = *age;
        } else if (name == "mx") {
            auto pattern = mx_pattern::parse(value);
            if (!pattern) return fail(policy_error::bad_mx, n);
            if (policy.mx.size() == max_mx_patterns) return fail(policy_error::too_many_mx, n);
            policy.mx.push_back(std::move(*pattern));
        } else if (value.empty()) {
            return fail(policy_error::bad_line, n);  // an extension needs a value
        }
    }
    if (!seen[version_field]) return fail(policy_error::missing_version, 0);
    if (!seen[mode_field]) return fail(policy_error::missing_mode, 0);
    if (!seen[max_age_field]) return fail(policy_error::missing_max_age, 0);
    if (policy.mode != sts_mode::none && policy.mx.empty()) return fail(policy_error::missing_mx, 0);
    return policy_parse{std::move(policy), policy_error::none, 0};
}

std::vector<std::string> policy_lines(std::string_view text) {
    std::vector<std::string> out;
    for (const auto line : split_lines(text)) out.emplace_back(trim_wsp(line));
    return out;
}

}  // namespace dsproxy::sts
