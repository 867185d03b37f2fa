// received_header — see received_header.hpp.
#include "proxy/smtp/received_header.hpp"

#include <array>

namespace dsproxy::smtp {

std::string_view to_string(upstream_stage s) noexcept {
    switch (s) {
    case upstream_stage::mail: return "MAIL";
    case upstream_stage::rcpt: return "RCPT";
    case upstream_stage::data: return "DATA";
    case upstream_stage::bdat_chunk: return "BDAT";
    case upstream_stage::end_of_data: return "end of data";
    }
    return "unknown";
}

namespace {

constexpr std::size_t client_text_max = 255;

std::string sanitize(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, client_text_max)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x21 || u > 0x7e || c == '(' || c == ')' || c == '\\') ? '?' : c;
    }
    return out;
}

std::string two(unsigned v) { return v < 10 ? '0' + std::to_string(v) : std::to_string(v); }

}  // namespace

std::string rfc5322_date(std::chrono::system_clock::time_point when) {
    using namespace std::chrono;
    static constexpr std::array<const char*, 7> day_names{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto day_point = floor<std::chrono::days>(when);
    const year_month_day ymd{day_point};
    const weekday wd{day_point};
    const hh_mm_ss hms{floor<seconds>(when - day_point)};
    return std::string(day_names[wd.c_encoding()]) + ", " + std::to_string(static_cast<unsigned>(ymd.day())) + ' ' +
           months[static_cast<unsigned>(ymd.month()) - 1] + ' ' + std::to_string(static_cast<int>(ymd.year())) +
           ' ' + two(static_cast<unsigned>(hms.hours().count())) + ':' +
           two(static_cast<unsigned>(hms.minutes().count())) + ':' +
           two(static_cast<unsigned>(hms.seconds().count())) + " +0000";
}

std::string build_received_header(const received_info& info) {
    std::string h = "Received: from " + (info.client_helo.empty() ? std::string("unknown") : sanitize(info.client_helo));
    h += " (" + (info.client_hostname.empty() ? std::string("unknown") : sanitize(info.client_hostname)) + " [" +
         sanitize(info.client_address) + "])\r\n";
    // RFC 3848 / RFC 6531 protocol names.
    std::string with = info.smtputf8 ? "UTF8SMTP" : (info.esmtp ? "ESMTP" : "SMTP");
    if (info.tls) with += 'S';
    h += "\tby " + sanitize(info.listener_fqdn) + " (dsproxy) with " + with + " id " + sanitize(info.session_id);
    if (info.tls) {
        h += "\r\n\t(using " + sanitize(info.tls->protocol) + " with cipher " + sanitize(info.tls->cipher);
        if (info.tls->cipher_bits > 0) h += " (" + std::to_string(info.tls->cipher_bits) + " bits)";
        h += ";\r\n\t client certificate ";
        if (!info.tls->client_certificate_presented) h += "not presented";
        else h += info.tls->client_certificate_verified ? "verified" : "not verified";
        if (info.domain_secured) h += "; domain-secured";
        h += ')';
    }
    if (!info.single_recipient.empty()) h += "\r\n\tfor " + sanitize(info.single_recipient);
    h += "; " + rfc5322_date(info.when) + "\r\n";
    return h;
}

}  // namespace dsproxy::smtp
