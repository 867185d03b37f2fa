// capabilities — see capabilities.hpp.
#include "proxy/smtp/capabilities.hpp"

#include <array>

namespace dsproxy::smtp {

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    return out;
}

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        const std::size_t start = i;
        while (i < s.size() && s[i] != ' ') ++i;
        if (i > start) out.emplace_back(s.substr(start, i - start));
    }
    return out;
}

struct flag_row {
    std::string_view keyword;
    bool capabilities::*flag;
};

constexpr std::array flags{
    flag_row{"PIPELINING", &capabilities::pipelining},
    flag_row{"8BITMIME", &capabilities::eight_bit_mime},
    flag_row{"SMTPUTF8", &capabilities::smtputf8},
    flag_row{"CHUNKING", &capabilities::chunking},
    flag_row{"BINARYMIME", &capabilities::binary_mime},
    flag_row{"DSN", &capabilities::dsn},
    flag_row{"STARTTLS", &capabilities::starttls},
    flag_row{"ENHANCEDSTATUSCODES", &capabilities::enhanced_status_codes},
};

}  // namespace

bool capabilities::xclient_supports(std::string_view attribute) const {
    if (!xclient) return false;
    const auto a = upper(attribute);
    for (const auto& x : xclient_attributes)
        if (x == a) return true;
    return false;
}

capabilities parse_ehlo_reply(const reply& ehlo) {
    capabilities caps;
    for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {
        auto w = words(ehlo.lines[i]);
        if (w.empty()) continue;
        const auto keyword = upper(w.front());
        for (const auto& row : flags)
            if (row.keyword == keyword) caps.*(row.flag) = true;
        if (keyword == "SIZE") {
            std::uint64_t n = 0;
            bool ok = w.size() < 2 || (!w[1].empty() && w[1].size() <= 20);
            if (w.size() >= 2)
                for (const char c : w[1]) {
                    if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) {
                        ok = false;
                        break;
                    }
                    n = n * 10 + static_cast<std::uint64_t>(c - '0');
                }
            if (ok) caps.size = n;
        } else if (keyword == "XCLIENT") {
            caps.xclient = true;
            for (std::size_t k = 1; k < w.size(); ++k) caps.xclient_attributes.push_back(upper(w[k]));
        }
    }
    return caps;
}

}  // namespace dsproxy::smtp
