// esmtp_params — see esmtp_params.hpp. Keywords are dispatched from tables,
// one row per keyword, so that adding one never touches the tokenizer.
#include "proxy/smtp/esmtp_params.hpp"

#include "proxy/smtp/address.hpp"

#include <array>
#include <vector>

namespace dsproxy::smtp {

namespace {

constexpr std::size_t envid_max = 100;   // RFC 3461 §4.4
constexpr std::size_t orcpt_max = 500;   // RFC 3461 §4.2
constexpr std::size_t size_digits_max = 20;

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    return out;
}

bool is_hex_upper(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

struct token {
    std::string keyword;  // upper case
    std::optional<std::string_view> value;
};

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"); esmtp-value = 1*(%d33-60 / %d62-126),
// plus UTF-8 (RFC 6531 §3.3) which the value checks below refuse where it does not belong.
bool tokenize(std::string_view text, std::vector<token>& out) {
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != ' ') return false;
        while (i < text.size() && text[i] == ' ') ++i;
        if (i == text.size()) break;
        const std::size_t start = i;
        while (i < text.size() && text[i] != ' ') ++i;
        const auto item = text.substr(start, i - start);
        const auto eq = item.find('=');
        const auto key = item.substr(0, eq);
        if (key.empty()) return false;
        for (std::size_t k = 0; k < key.size(); ++k) {
            const char c = key[k];
            const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!alnum && (k == 0 || c != '-')) return false;
        }
        token t{upper(key), std::nullopt};
        if (eq != std::string_view::npos) {
            const auto value = item.substr(eq + 1);
            if (value.empty()) return false;
            for (const char c : value) {
                const auto u = static_cast<unsigned char>(c);
                if (u == '=' || (u < 33) || u == 127) return false;
            }
            t.value = value;
        }
        out.push_back(std::move(t));
    }
    return true;
}

using mail_handler = param_error (*)(std::optional<std::string_view>, mail_parameters&);
using rcpt_handler = param_error (*)(std::optional<std::string_view>, rcpt_parameters&);

param_error mail_size(std::optional<std::string_view> v, mail_parameters& p) {
    if (p.size) return param_error::duplicate;
    if (!v || v->size() > size_digits_max) return param_error::bad_value;
    std::uint64_t n = 0;
    for (const char c : *v) {
        if (c < '0' || c > '9') return param_error::bad_value;
        const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10) return param_error::bad_value;
        n = n * 10 + d;
    }
    p.size = n;
    return param_error::none;
}

param_error mail_body(std::optional<std::string_view> v, mail_parameters& p) {
    if (p.body != body_type::unspecified) return param_error::duplicate;
    if (!v) return param_error::bad_value;
    const auto b = upper(*v);
    if (b == "7BIT") p.body = body_type::seven_bit;
    else if (b == "8BITMIME") p.body = body_type::eight_bit_mime;
    else if (b == "BINARYMIME") p.body = body_type::binary_mime;
    else return param_error::bad_value;
    return param_error::none;
}

param_error mail_smtputf8(std::optional<std::string_view> v, mail_parameters& p) {
    if (p.smtputf8) return param_error::duplicate;
    if (v) return param_error::bad_value;
    p.smtputf8 = true;
    return param_error::none;
}

param_error mail_ret(std::optional<std::string_view> v, mail_parameters& p) {
    if (p.ret != dsn_ret::unspecified) return param_error::duplicate;
    if (!v) return param_error::bad_value;
    const auto r = upper(*v);
    if (r == "FULL") p.ret = dsn_ret::full;
    else if (r == "HDRS") p.ret = dsn_ret::headers;
    else return param_error::bad_value;
    return param_error::none;
}

param_error mail_envid(std::optional<std::string_view> v, mail_parameters& p) {
    if (p.envid) return param_error::duplicate;
    if (!v || v->size() > envid_max || !valid_xtext(*v)) return param_error::bad_value;
    p.envid = std::string(*v);
    return param_error::none;
}

param_error mail_auth(std::optional<std::string_view> v, mail_parameters& p) {
    if (p.auth) return param_error::duplicate;
    if (!v || (*v != "<>" && !valid_xtext(*v))) return param_error::bad_value;
    p.auth = std::string(*v);
    return param_error::none;
}

param_error rcpt_notify(std::optional<std::string_view> v, rcpt_parameters& p) {
    if (p.notify != 0) return param_error::duplicate;
    if (!v) return param_error::bad_value;
    std::string_view rest = *v;
    unsigned flags = 0;
    while (true) {
        const auto comma = rest.find(',');
        const auto item = upper(rest.substr(0, comma));
        unsigned f = 0;
        if (item == "NEVER") f = notify_never;
        else if (item == "SUCCESS") f = notify_success;
        else if (item == "FAILURE") f = notify_failure;
        else if (item == "DELAY") f = notify_delay;
        if (f == 0 || (flags & f) != 0) return param_error::bad_value;
        flags |= f;
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    if ((flags & notify_never) != 0 && flags != notify_never) return param_error::bad_value;  // RFC 3461 §4.1
    p.notify = flags;
    return param_error::none;
}

param_error rcpt_orcpt(std::optional<std::string_view> v, rcpt_parameters& p) {
    if (p.orcpt) return param_error::duplicate;
    if (!v || v->size() > orcpt_max) return param_error::bad_value;
    const auto semi = v->find(';');
    if (semi == std::string_view::npos || semi == 0 || semi + 1 == v->size()) return param_error::bad_value;
    const auto type = upper(v->substr(0, semi));
    for (const char c : type)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return param_error::bad_value;
    const auto addr = v->substr(semi + 1);
    // RFC 6533: "utf-8" addresses carry UTF-8 (with \x{..} escapes); otherwise xtext.
    if (type == "UTF-8") {
        if (!valid_utf8(addr)) return param_error::bad_value;
    } else if (!valid_xtext(addr)) {
        return param_error::bad_value;
    }
    p.orcpt = std::string(*v);
    return param_error::none;
}

struct mail_row { std::string_view keyword; mail_handler handle; };
struct rcpt_row { std::string_view keyword; rcpt_handler handle; };

constexpr std::array mail_table{
    mail_row{"SIZE", mail_size},   mail_row{"BODY", mail_body},   mail_row{"SMTPUTF8", mail_smtputf8},
    mail_row{"RET", mail_ret},     mail_row{"ENVID", mail_envid}, mail_row{"AUTH", mail_auth},
};
constexpr std::array rcpt_table{
    rcpt_row{"NOTIFY", rcpt_notify},
    rcpt_row{"ORCPT", rcpt_orcpt},
};

template <typename Table, typename Params>
param_result parse_with(const Table& table, std::string_view text, Params& out) {
    std::vector<token> tokens;
    if (!tokenize(text, tokens)) return {param_error::syntax, {}};
    for (const auto& t : tokens) {
        param_error e = param_error::unknown;
        for (const auto& row : table)
            if (row.keyword == t.keyword) e = row.handle(t.value, out);
        if (e != param_error::none) return {e, t.keyword};
    }
    return {};
}

}  // namespace

bool valid_xtext(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto u = static_cast<unsigned char>(text[i]);
        if (u == '+') {
            if (i + 2 >= text.size()) return false;
            if (!is_hex_upper(text[i + 1]) || !is_hex_upper(text[i + 2])) return false;
            i += 2;
        } else if (u < 33 || u > 126 || u == '=') {
            return false;
        }
    }
    return true;
}

std::string encode_xtext(std::string_view raw) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : raw) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126 || u == '+' || u == '=') {
            out += '+';
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

param_result parse_mail_parameters(std::string_view text, mail_parameters& out) {
    return parse_with(mail_table, text, out);
}

param_result parse_rcpt_parameters(std::string_view text, rcpt_parameters& out) {
    return parse_with(rcpt_table, text, out);
}

std::string mail_parameters::to_wire() const {
    std::string out;
    if (size) out += " SIZE=" + std::to_string(*size);
    if (body == body_type::seven_bit) out += " BODY=7BIT";
    if (body == body_type::eight_bit_mime) out += " BODY=8BITMIME";
    if (body == body_type::binary_mime) out += " BODY=BINARYMIME";
    if (smtputf8) out += " SMTPUTF8";
    if (ret == dsn_ret::full) out += " RET=FULL";
    if (ret == dsn_ret::headers) out += " RET=HDRS";
    if (envid) out += " ENVID=" + *envid;
    return out;
}

std::string rcpt_parameters::to_wire() const {
    std::string out;
    if (notify == notify_never) {
        out += " NOTIFY=NEVER";
    } else if (notify != 0) {
        std::string list;
        if (notify & notify_success) list += ",SUCCESS";
        if (notify & notify_failure) list += ",FAILURE";
        if (notify & notify_delay) list += ",DELAY";
        out += " NOTIFY=" + list.substr(1);
    }
    if (orcpt) out += " ORCPT=" + *orcpt;
    return out;
}

}  // namespace dsproxy::smtp
