// subject_name — see subject_name.hpp.
#include "tls/subject_name.hpp"

#include "tls/country_codes.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace dsproxy::tls {

namespace {

struct rdn_rule {
    std::string_view type;
    std::size_t max_chars;  // per value (DC: in total)
};

// The seed's table. Order here is irrelevant: the subject keeps the user's order.
constexpr std::array<rdn_rule, 7> rules{{
    {"DC", 255}, {"C", 2}, {"ST", 128}, {"L", 128}, {"O", 64}, {"OU", 64}, {"CN", 64},
}};

constexpr std::size_t max_cn_chars = max_common_name_chars;

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::optional<std::string> canonical_type(std::string_view raw) {
    const std::string t = upper(trim(raw));
    if (t == "S") return std::string("ST");
    for (const auto& r : rules)
        if (t == r.type) return t;
    return std::nullopt;
}

// Splits at unquoted, unescaped commas; unquotes and unescapes values.
// Returns the components as (type text, value) pairs.
bool split_components(std::string_view text, std::vector<std::pair<std::string, std::string>>& out,
                      std::string& error) {
    std::string type, value;
    bool in_type = true, quoted = false, was_quoted = false;
    auto finish = [&]() -> bool {
        const std::string_view t = trim(type);
        if (t.empty() && trim(value).empty() && !was_quoted) {
            error = "empty component in the subject (two commas in a row, or a comma at the start or end)";
            return false;
        }
        if (in_type) {
            error = "component '" + std::string(t) + "' has no '=': write TYPE=VALUE, e.g. CN=mail1.contoso.com";
            return false;
        }
        out.emplace_back(std::string(t), was_quoted ? value : std::string(trim(value)));
        type.clear(); value.clear();
        in_type = true; was_quoted = false;
        return true;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_type) {
            if (c == '=') in_type = false;
            else if (c == ',') { if (!finish()) return false; }
            else type += c;
            continue;
        }
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') { value += '"'; ++i; }
            else if (c == '\\' && i + 1 < text.size()) value += text[++i];
            else if (c == '"') quoted = false;
            else value += c;
            continue;
        }
        if (c == '\\' && i + 1 < text.size()) value += text[++i];
        else if (c == '"' && trim(value).empty() && !was_quoted) { quoted = true; was_quoted = true; value.clear(); }
        else if (c == ',') { if (!finish()) return false; }
        else if (was_quoted && c != ' ' && c != '\t') {
            error = "text after a closing quote in the subject";
            return false;
        }
        else if (!was_quoted) value += c;
    }
    if (quoted) {
        error = "unterminated quote in the subject";
        return false;
    }
    return finish();
}

bool looks_like_fqdn(std::string_view s) {
    if (s.find('.') == std::string_view::npos || s.front() == '.' || s.back() == '.') return false;
    return std::none_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == ','; });
}

// C0 controls and DEL, and the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F).
bool has_control(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F) return true;
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
    }
    return false;
}

bool has_non_ascii(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

}  // namespace

std::size_t utf8_length(std::string_view s) noexcept {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_valid_utf8(std::string_view s) noexcept {
    // RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c < 0x80) n = 0;
        else if (c >= 0xC2 && c <= 0xDF) n = 1;
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else return false;
        if (i + n >= s.size() && n > 0) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return false;
        }
        i += n + 1;
    }
    return true;
}

std::optional<subject_rdns> parse_subject(std::string_view text, std::string& error) {
    if (trim(text).empty()) {
        error = "the subject is empty; write e.g. \"C=US, O=Contoso Corp, CN=mail1.contoso.com\"";
        return std::nullopt;
    }
    std::vector<std::pair<std::string, std::string>> parts;
    if (!split_components(text, parts, error)) return std::nullopt;
    subject_rdns out;
    for (auto& [type, value] : parts) {
        auto canonical = canonical_type(type);
        if (!canonical) {
            error = "unknown RDN type '" + type + "' in the subject; use C, ST (or S), L, O, OU, CN or DC";
            return std::nullopt;
        }
        if (*canonical == "C") value = upper(value);
        out.push_back({std::move(*canonical), std::move(value)});
    }
    return out;
}

subject_findings validate_subject(const subject_rdns& rdns) {
    subject_findings f;
    std::size_t dc_total = 0, cn_count = 0;
    bool has_c = false, has_dc = false;
    for (const auto& r : rdns) {
        const std::string where = r.type + "=" + r.value;
        if (r.value.empty()) { f.errors.push_back(r.type + " has an empty value"); continue; }
        if (r.value.find('\0') != std::string::npos || !is_valid_utf8(r.value)) {
            f.errors.push_back(r.type + " value is not valid UTF-8 text");
            continue;
        }
        if (has_control(r.value)) {
            f.errors.push_back(r.type + " value contains a control character (a tab, a line break, ...); "
                                        "a certificate subject is printed text");
            continue;
        }
        const std::size_t chars = utf8_length(r.value);
        if (r.type == "DC") {
            has_dc = true;
            dc_total += chars;
            if (has_non_ascii(r.value))
                f.errors.push_back("DC=" + r.value + " is not ASCII: a domain component is a DNS label; "
                                   "write its A-label (xn--...)");
            continue;
        }
        if (r.type == "C") {
            has_c = true;
            if (r.value.size() != 2 || !is_iso3166_alpha2(r.value)) {
                std::string msg = "C=" + r.value + " is not an ISO 3166-1 alpha-2 country code (two letters, e.g. US, DE, GB)";
                if (r.value == "UK") msg += "; the United Kingdom is GB";
                f.errors.push_back(std::move(msg));
            }
            continue;
        }
        if (r.type == "CN") {
            ++cn_count;
            if (chars > max_cn_chars) {
                f.errors.push_back("CN is " + std::to_string(chars) + " characters, more than the maximum of 64: a FQDN "
                                   "longer than 64 characters cannot be the CN; put it in the subject alternative "
                                   "name with --domain and use a shorter CN");
            } else if (has_non_ascii(r.value) && looks_like_fqdn(r.value)) {
                f.warnings.push_back("CN=" + r.value + " looks like a DNS name but contains non-ASCII characters: "
                                     "no peer will treat it as a DNS name (a look-alike such as 'ï' for 'i'?)");
            }
            continue;
        }
        for (const auto& rule : rules)
            if (rule.type == r.type && chars > rule.max_chars)
                f.errors.push_back(where + " is " + std::to_string(chars) + " characters; " + r.type +
                                   " allows at most " + std::to_string(rule.max_chars));
    }
    if (dc_total > 255)
        f.errors.push_back("the DC values total " + std::to_string(dc_total) +
                           " characters; all DC values together may hold at most 255");
    if (has_dc && has_c)
        f.warnings.push_back("the subject has both DC and C: by convention a name is referenced either by "
                             "country (C) or by DNS name (DC), not both");
    if (cn_count > 1)
        f.warnings.push_back("the subject has " + std::to_string(cn_count) +
                             " CNs: some software assumes a single CN; use one CN and put the other names "
                             "in the subject alternative name with --domain");
    return f;
}

std::string format_subject(const subject_rdns& rdns) {
    std::string out;
    for (const auto& r : rdns) {
        if (!out.empty()) out += ", ";
        out += r.type + "=";
        const bool quote = r.value.find_first_of(",\"") != std::string::npos || trim(r.value) != r.value;
        if (!quote) { out += r.value; continue; }
        out += '"';
        for (char c : r.value) {
            if (c == '"') out += '"';
            out += c;
        }
        out += '"';
    }
    return out;
}

}  // namespace dsproxy::tls
