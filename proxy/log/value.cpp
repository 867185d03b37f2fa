// value — see value.hpp.
#include "proxy/log/value.hpp"

#include <algorithm>

namespace dsproxy::log {

namespace {

bool printable_ascii(unsigned char c) noexcept { return c > 0x20 && c < 0x7f; }

// Bytes that a key=value parser reads as structure: they force quotes.
bool bare(unsigned char c) noexcept { return printable_ascii(c) && c != '"' && c != '=' && c != '\\'; }

}  // namespace

std::string value(std::string_view bytes, std::size_t max_length) {
    const bool cut = bytes.size() > max_length;
    const std::string_view kept = bytes.substr(0, max_length);
    if (!cut && !kept.empty() && std::all_of(kept.begin(), kept.end(), [](char c) { return bare(c); }))
        return std::string(kept);
    constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(kept.size() + 8);
    out += '"';
    for (const unsigned char c : kept) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == ' ' || printable_ascii(c)) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    if (cut) out += "...";
    out += '"';
    return out;
}

}  // namespace dsproxy::log
