// tlsrpt_report — see tlsrpt_report.hpp.
#include "proxy/sts/tlsrpt_report.hpp"

#include "proxy/sts/sts_policy.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <zlib.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <tuple>

namespace dsproxy::sts {

namespace {

using json = nlohmann::json;

std::string iso(std::int64_t t) {
    using namespace std::chrono;
    const sys_seconds s{seconds{t}};
    const auto d = floor<days>(s);
    const year_month_day ymd{d};
    const hh_mm_ss hms{s - d};
    char out[64];
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long>(hms.seconds().count()));
    return out;
}

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto nl = text.find('\n', start);
        const auto line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
        if (!line.empty()) out.emplace_back(line);
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    return out;
}

// §4.4 "policy": type, the policy's lines, the domain, and for sts the mx patterns.
json policy_object(policy_type type, const std::string& text, std::string_view domain) {
    json p{{"policy-type", to_string(type)}, {"policy-domain", domain}};
    if (type == policy_type::sts) {
        const auto parsed = parse_policy(text);
        p["policy-string"] = parsed.policy ? policy_lines(text) : std::vector<std::string>{};
        json mx = json::array();
        if (parsed.policy)
            for (const auto& m : parsed.policy->mx) mx.push_back(m.text());
        p["mx-host"] = mx;
    } else if (type == policy_type::tlsa) {
        p["policy-string"] = lines_of(text);
    }
    return p;
}

std::string base64_lines(std::string_view data) {
    std::string out;
    constexpr std::size_t chunk = 57;  // 76 characters a line (RFC 2045 §6.8)
    for (std::size_t i = 0; i < data.size(); i += chunk) {
        const std::size_t n = std::min(chunk, data.size() - i);
        unsigned char line[80];
        const int len = EVP_EncodeBlock(line, reinterpret_cast<const unsigned char*>(data.data() + i), static_cast<int>(n));
        out.append(reinterpret_cast<const char*>(line), static_cast<std::size_t>(len));
        out += "\r\n";
    }
    return out;
}

}  // namespace

report_period period_of(std::string_view day) {
    using namespace std::chrono;
    int y = 0;
    unsigned m = 0, d = 0;
    char extra = 0;
    const std::string text(day);
    if (day.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &extra) != 3) return {std::string(day), 0, 0};
    const year_month_day ymd{year{y}, month{m}, std::chrono::day{d}};
    if (!ymd.ok()) return {std::string(day), 0, 0};
    const auto start = sys_days{ymd}.time_since_epoch() / seconds{1};
    return {text, start, start + 86399};
}

std::string report_id(const report_period& period, std::string_view domain, std::string_view submitter) {
    return period.day + "T00:00:00Z_" + std::string(domain) + "@" + std::string(submitter);
}

std::string build_report(const report_sender_facts& facts, const report_period& period, std::string_view domain,
                         const std::vector<tlsrpt_count>& counts) {
    struct group {
        std::uint64_t ok = 0, failed = 0;
        std::map<std::tuple<std::string, std::string, std::string, std::string>, std::uint64_t> details;
    };
    std::map<std::pair<int, std::string>, group> groups;  // (policy type, text), in a stable order
    for (const auto& c : counts) {
        auto& g = groups[{static_cast<int>(c.key.type), c.key.policy_text}];
        if (!c.key.failure) {
            g.ok += c.count;
            continue;
        }
        g.failed += c.count;
        g.details[{std::string(to_string(*c.key.failure)), c.key.sending_ip, c.key.receiving_mx, c.key.receiving_ip}] +=
            c.count;
    }
    json policies = json::array();
    for (const auto& [key, g] : groups) {
        json entry{{"policy", policy_object(static_cast<policy_type>(key.first), key.second, domain)},
                   {"summary", {{"total-successful-session-count", g.ok}, {"total-failure-session-count", g.failed}}}};
        json details = json::array();
        for (const auto& [d, n] : g.details) {
            json f{{"result-type", std::get<0>(d)}, {"failed-session-count", n}};
            if (!std::get<1>(d).empty()) f["sending-mta-ip"] = std::get<1>(d);
            if (!std::get<2>(d).empty()) f["receiving-mx-hostname"] = std::get<2>(d);
            if (!std::get<3>(d).empty()) f["receiving-ip"] = std::get<3>(d);
            details.push_back(std::move(f));
        }
        if (!details.empty()) entry["failure-details"] = std::move(details);
        policies.push_back(std::move(entry));
    }
    const json report{
        {"organization-name", facts.organization},
        {"date-range", {{"start-datetime", iso(period.start)}, {"end-datetime", iso(period.end)}}},
        {"contact-info", facts.contact},
        {"report-id", report_id(period, domain, facts.submitter)},
        {"policies", std::move(policies)},
    };
    return report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string gzip(std::string_view data) {
    z_stream z{};
    // windowBits 15 + 16: a gzip header and trailer (RFC 1952), not zlib's.
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("zlib: deflateInit2 failed");
    std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate did not finish");
    return out;
}

std::string report_file_name(const report_period& period, std::string_view domain, std::string_view submitter) {
    return std::string(submitter) + "!" + std::string(domain) + "!" + std::to_string(period.start) + "!" +
           std::to_string(period.end) + "!" + period.day + ".json.gz";
}

std::string build_report_mail(const report_sender_facts& facts, const report_period& period, std::string_view domain,
                              std::string_view to, std::string_view gzipped, std::string_view date) {
    const std::string id = report_id(period, domain, facts.submitter);
    const std::string boundary = "tlsrpt-" + std::to_string(period.start) + "-" + std::to_string(gzipped.size());
    std::string m;
    m += "From: <" + facts.from + ">\r\n";
    m += "To: <" + std::string(to) + ">\r\n";
    m += "Date: " + std::string(date) + "\r\n";
    m += "Subject: Report Domain: " + std::string(domain) + " Submitter: " + facts.submitter + " Report-ID: <" + id + ">\r\n";
    m += "TLS-Report-Domain: " + std::string(domain) + "\r\n";
    m += "TLS-Report-Submitter: " + facts.submitter + "\r\n";
    m += "Message-ID: <" + period.day + "." + std::string(domain) + "@" + facts.submitter + ">\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"" + boundary + "\"\r\n";
    m += "\r\n";
    m += "--" + boundary + "\r\n";
    m += "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
    m += "This is the aggregate TLS report (RFC 8460) of " + facts.organization + " for " + std::string(domain) +
         ",\r\nfor " + period.day + " (UTC). Contact: " + facts.contact + "\r\n";
    m += "--" + boundary + "\r\n";
    m += "Content-Type: application/tlsrpt+gzip\r\n";
    m += "Content-Transfer-Encoding: base64\r\n";
    m += "Content-Disposition: attachment; filename=\"" + report_file_name(period, domain, facts.submitter) + "\"\r\n";
    m += "\r\n";
    m += base64_lines(gzipped);
    m += "--" + boundary + "--\r\n";
    return m;
}

}  // namespace dsproxy::sts
