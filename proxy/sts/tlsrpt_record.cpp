// tlsrpt_record — see tlsrpt_record.hpp.
#include "proxy/sts/tlsrpt_record.hpp"

#include "proxy/smtp/address.hpp"
#include "proxy/sts/tag_list.hpp"

#include <cctype>
#include <optional>

namespace dsproxy::sts {

namespace {

constexpr std::string_view version = "v=TLSRPTv1";

std::string_view trim_wsp(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), before the ":".
std::optional<std::string> scheme_of(std::string_view uri) {
    const auto colon = uri.find(':');
    if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
    std::string scheme;
    for (std::size_t i = 0; i < colon; ++i) {
        const auto c = static_cast<unsigned char>(uri[i]);
        const bool ok = std::isalpha(c) || (i > 0 && (std::isdigit(c) || c == '+' || c == '-' || c == '.'));
        if (!ok) return std::nullopt;
        scheme.push_back(static_cast<char>(std::tolower(c)));
    }
    return scheme;
}

// mailto:addr-spec (RFC 6068), percent-decoded, exactly one address and no
// header fields: a report goes to one mailbox per URI.
std::optional<std::string> mailto_address(std::string_view rest) {
    if (rest.find_first_of("?,") != std::string_view::npos) return std::nullopt;  // wire: hfields, a second address
    const auto decoded = percent_decode(rest);
    if (!decoded || decoded->empty()) return std::nullopt;
    const std::string wrapped = '<' + *decoded + '>';
    const auto parsed = smtp::parse_path(wrapped, smtp::path_kind::forward);
    if (parsed.error != smtp::path_error::none || !parsed.rest.empty() || parsed.value.had_source_route ||
        parsed.value.box.domain.empty() || parsed.value.box.address_literal)
        return std::nullopt;
    return parsed.value.box.address();
}

}  // namespace

std::string_view to_string(report_destination::kind k) noexcept {
    return k == report_destination::kind::mailto ? "mailto" : "https";
}

std::string to_string(const report_destination& d) {
    return d.how == report_destination::kind::mailto ? "mailto:" + d.address : to_string(d.url);
}

tlsrpt_record parse_tlsrpt_record(std::string_view record) {
    const tlsrpt_record invalid{record_status::invalid, {}, 0};
    const auto tags = split_tags(record, version);
    if (!tags) return invalid;
    tlsrpt_record out{record_status::ok, {}, 0};
    bool have_rua = false;
    for (const auto& t : *tags) {
        if (t.name != "rua") {
            if (!is_tag_value(t.value)) return invalid;
            continue;
        }
        if (have_rua) return invalid;
        have_rua = true;
        std::string_view list = t.value;
        while (true) {
            const auto comma = list.find(',');
            const std::string_view uri = trim_wsp(list.substr(0, comma));
            // "," and "!" inside a URI must be percent-encoded (§3), so a
            // comma always separates; an empty item is a syntax error.
            if (uri.empty() || uri.find('!') != std::string_view::npos || !is_uri_text(uri)) return invalid;
            const auto scheme = scheme_of(uri);
            if (!scheme) return invalid;
            if (*scheme == "mailto") {
                auto address = mailto_address(uri.substr(7));
                if (!address) return invalid;
                out.rua.push_back({report_destination::kind::mailto, std::move(*address), {}});
            } else if (*scheme == "https") {
                auto url = parse_https_url(uri);
                if (!url) return invalid;
                out.rua.push_back({report_destination::kind::https, {}, std::move(*url)});
            } else {
                ++out.skipped;
            }
            if (out.rua.size() > max_report_destinations) return invalid;
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
    }
    if (!have_rua) return invalid;
    return out;
}

tlsrpt_record select_tlsrpt_record(const std::vector<std::string>& answer) {
    const std::string* chosen = nullptr;
    for (const auto& r : answer) {
        if (!starts_with_version(r, version)) continue;
        if (chosen) return {record_status::multiple, {}, 0};
        chosen = &r;
    }
    if (!chosen) return {record_status::none, {}, 0};
    return parse_tlsrpt_record(*chosen);
}

}  // namespace dsproxy::sts
