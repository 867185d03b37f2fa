// address — see address.hpp. A hand-written recursive-descent reader over
// the RFC 5321 §4.1.2 / §4.1.3 grammar; `pos` only moves forward.
#include "proxy/smtp/address.hpp"

#include <cstdint>
#include <cstring>

namespace dsproxy::smtp {

namespace {

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_high(char c) noexcept { return static_cast<unsigned char>(c) >= 0x80; }
bool is_atext(char c) noexcept {
    return is_alpha(c) || is_digit(c) || (c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr);
}

class reader {
public:
    explicit reader(std::string_view t) : text_(t) {}
    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }
    bool eat(char c) {
        if (peek() != c || at_end()) return false;
        ++pos_;
        return true;
    }
    std::size_t pos() const { return pos_; }
    std::string_view since(std::size_t start) const { return text_.substr(start, pos_ - start); }
    std::string_view rest() const { return text_.substr(pos_); }

    // sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str], or a U-label.
    bool domain(bool& non_ascii) {
        do {
            const std::size_t start = pos_;
            while (!at_end() && (is_alpha(peek()) || is_digit(peek()) || peek() == '-' || is_high(peek()))) {
                non_ascii |= is_high(peek());
                ++pos_;
            }
            const auto label = since(start);
            if (label.empty() || label.front() == '-' || label.back() == '-' || label.size() > 63) return false;
        } while (eat('.'));
        return true;
    }

    // "[" ( IPv4 / "IPv6:" IPv6 / tag ":" dcontent ) "]"
    bool address_literal() {
        if (!eat('[')) return false;
        const std::size_t start = pos_;
        while (!at_end() && peek() != ']') ++pos_;
        const auto body = since(start);
        if (!eat(']')) return false;
        if (ipv4(body)) return true;
        if (body.size() > 5 && (body.substr(0, 5) == "IPv6:" || body.substr(0, 5) == "ipv6:" ||
                                body.substr(0, 5) == "IPV6:"))
            return ipv6(body.substr(5));
        // General-address-literal: Standardized-tag ":" 1*dcontent
        const auto colon = body.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon + 1 == body.size()) return false;
        for (std::size_t i = 0; i < colon; ++i)
            if (!is_alpha(body[i]) && !is_digit(body[i]) && body[i] != '-') return false;
        for (std::size_t i = colon + 1; i < body.size(); ++i) {
            const auto u = static_cast<unsigned char>(body[i]);
            if (u < 33 || u > 126 || u == '[' || u == '\\' || u == ']') return false;
        }
        return true;
    }

    static bool ipv4(std::string_view s) {
        int parts = 0;
        std::size_t i = 0;
        while (true) {
            std::size_t digits = 0;
            int value = 0;
            while (i < s.size() && is_digit(s[i]) && digits < 4) value = value * 10 + (s[i++] - '0'), ++digits;
            if (digits == 0 || digits > 3 || value > 255) return false;
            ++parts;
            if (i == s.size()) return parts == 4;
            if (s[i] != '.' || parts == 4) return false;
            ++i;
        }
    }

    static bool ipv6(std::string_view s) {
        int groups = 0;
        bool compressed = false;
        std::size_t i = 0;
        if (s.substr(0, 2) == "::") compressed = true, i = 2;
        else if (!s.empty() && s[0] == ':') return false;
        while (i < s.size()) {
            std::size_t start = i;
            while (i < s.size() && is_hex(s[i])) ++i;
            if (i < s.size() && s[i] == '.') {  // embedded IPv4 as the last part
                if (!ipv4(s.substr(start))) return false;
                groups += 2;
                i = s.size();
                break;
            }
            if (i == start || i - start > 4) return false;
            ++groups;
            if (i == s.size()) break;
            if (s[i] != ':') return false;
            ++i;
            if (i < s.size() && s[i] == ':') {
                if (compressed) return false;
                compressed = true;
                ++i;
            } else if (i == s.size()) {
                return false;  // trailing single ':'
            }
        }
        return compressed ? groups <= 7 : groups == 8;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

bool valid_utf8(std::string_view text) noexcept {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) { ++i; continue; }
        if (c >= 0xc2 && c <= 0xdf) n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef) n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) n = 3, cp = c & 0x07;
        else return false;
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= text.size()) return false;
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

path_parse parse_path(std::string_view text, path_kind kind, std::size_t path_max) {
    path_parse out;
    reader r(text);
    auto fail = [&](path_error e) {
        out.error = e;
        out.value = {};
        return out;
    };
    if (!r.eat('<')) return fail(path_error::syntax);
    const auto close = text.find('>');
    if (close != std::string_view::npos && close + 1 > path_max) return fail(path_error::too_long);
    if (close == std::string_view::npos && text.size() > path_max) return fail(path_error::too_long);

    if (r.eat('>')) {
        if (kind != path_kind::reverse) return fail(path_error::syntax);
        out.value.null = true;
        out.rest = r.rest();
        return out;
    }
    bool non_ascii = false;
    // A-d-l ":" — a source route, accepted and ignored (RFC 5321 §4.1.2, Appendix C).
    if (r.peek() == '@') {
        do {
            if (!r.eat('@') || !r.domain(non_ascii)) return fail(path_error::syntax);
        } while (r.eat(','));
        if (!r.eat(':')) return fail(path_error::syntax);
        out.value.had_source_route = true;
    }
    mailbox& box = out.value.box;
    const std::size_t local_start = r.pos();
    if (r.eat('"')) {
        box.quoted = true;
        while (true) {
            if (r.at_end()) return fail(path_error::syntax);
            const char c = r.peek();
            const auto u = static_cast<unsigned char>(c);
            if (c == '"') break;
            if (c == '\\') {
                r.eat('\\');
                const auto q = static_cast<unsigned char>(r.peek());
                if (r.at_end() || q < 32 || q > 126) return fail(path_error::syntax);
                r.eat(static_cast<char>(q));
                continue;
            }
            if (u >= 0x80) non_ascii = true;
            else if (u < 32 || u > 126) return fail(path_error::syntax);
            r.eat(c);
        }
        r.eat('"');
    } else {
        do {
            const std::size_t atom = r.pos();
            while (!r.at_end() && (is_atext(r.peek()) || is_high(r.peek()))) {
                non_ascii |= is_high(r.peek());
                r.eat(r.peek());
            }
            if (r.pos() == atom) return fail(path_error::syntax);
        } while (r.eat('.'));
    }
    box.local_part = std::string(r.since(local_start));
    if (r.eat('>')) {
        // RFC 5321 §4.1.1.3: "<Postmaster>" without a domain, forward path only.
        std::string lower;
        for (const char c : box.local_part) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
        if (kind != path_kind::forward || lower != "postmaster" || out.value.had_source_route)
            return fail(path_error::syntax);
        out.rest = r.rest();
        return out;
    }
    if (!r.eat('@')) return fail(path_error::syntax);
    const std::size_t domain_start = r.pos();
    if (r.peek() == '[') {
        if (!r.address_literal()) return fail(path_error::syntax);
        box.address_literal = true;
    } else if (!r.domain(non_ascii)) {
        return fail(path_error::syntax);
    }
    box.domain = std::string(r.since(domain_start));
    if (!r.eat('>')) return fail(path_error::syntax);
    if (non_ascii && !valid_utf8(r.since(0))) return fail(path_error::syntax);
    if (box.domain.size() > 255) return fail(path_error::too_long);
    box.non_ascii = non_ascii;
    out.rest = r.rest();
    return out;
}

bool has_routing_operators(const mailbox& box) noexcept {
    std::string_view local = box.local_part;
    if (box.quoted && local.size() >= 2) local = local.substr(1, local.size() - 2);
    return local.find_first_of("%!@") != std::string_view::npos;  // wire: source-route characters
}

}  // namespace dsproxy::smtp
