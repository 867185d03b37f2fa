// reply — rendering and construction of SMTP replies (see reply.hpp).
#include "proxy/smtp/reply.hpp"

namespace dsproxy::smtp {

std::string enhanced_code::to_string() const {
    return std::to_string(klass) + '.' + std::to_string(subject) + '.' + std::to_string(detail);
}

namespace {

bool control(unsigned char c) noexcept { return (c < 0x20 && c != '\t') || c == 0x7f; }

void append_text(std::string& out, std::string_view text) {
    for (const char c : text) out += control(static_cast<unsigned char>(c)) ? '?' : c;
}

}  // namespace

std::string reply_safe(std::string_view text, std::size_t max) {
    const bool cut = text.size() > max;
    const std::size_t keep = cut ? (max > 3 ? max - 3 : 0) : text.size();
    std::string out;
    out.reserve(keep + 3);
    for (const char c : text.substr(0, keep)) {
        const auto u = static_cast<unsigned char>(c);
        out += u >= 0x20 && u < 0x7f ? c : '?';
    }
    if (cut) out += std::string_view("...").substr(0, max - keep);
    return out;
}

std::string reply::to_wire() const {
    const std::string code_text = std::to_string(code);
    if (lines.empty()) return code_text + "\r\n";
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        out += code_text;
        out += (i + 1 == lines.size()) ? ' ' : '-';
        append_text(out, lines[i]);
        out += "\r\n";
    }
    return out;
}

std::string reply::first_line() const {
    const std::string code_text = std::to_string(code);
    if (lines.empty()) return code_text;
    std::string out = code_text + (lines.size() > 1 ? "-" : " ");
    append_text(out, lines.front());
    return out;
}

std::string reply::joined(std::string_view separator) const {
    const std::string code_text = std::to_string(code);
    if (lines.empty()) return code_text;
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) out += separator;
        out += code_text;
        out += (i + 1 == lines.size()) ? ' ' : '-';
        append_text(out, lines[i]);
    }
    return out;
}

reply make_reply(int code, std::string_view text) {
    reply r;
    r.code = code;
    r.status = parse_enhanced_code(text);
    r.lines.emplace_back(text);
    return r;
}

namespace {
// RFC 3463: class "2"/"4"/"5"; subject 1*3 digits; detail 1*3 digits.
bool read_number(std::string_view text, std::size_t& pos, std::size_t max_digits, int& out) {
    std::size_t start = pos;
    int value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < max_digits) {
        value = value * 10 + (text[pos] - '0');
        ++pos;
    }
    if (pos == start) return false;
    if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') return false;  // too many digits
    out = value;
    return true;
}
}  // namespace

std::optional<enhanced_code> parse_enhanced_code(std::string_view text) {
    if (text.empty() || (text[0] != '2' && text[0] != '4' && text[0] != '5')) return std::nullopt;
    enhanced_code c;
    c.klass = text[0] - '0';
    std::size_t pos = 1;
    if (pos >= text.size() || text[pos++] != '.') return std::nullopt;
    if (!read_number(text, pos, 3, c.subject)) return std::nullopt;
    if (pos >= text.size() || text[pos++] != '.') return std::nullopt;
    if (!read_number(text, pos, 3, c.detail)) return std::nullopt;
    if (pos < text.size() && text[pos] != ' ') return std::nullopt;
    return c;
}

}  // namespace dsproxy::smtp
