// sts_records_fuzz — libFuzzer target for the two TXT records of outbound TLS
// policy (`_mta-sts`, RFC 8461 §3.1; `_smtp._tls`, RFC 8460 §3) and the
// https URL parser behind `rua`.
//
// Input layout: byte 0 selects the parser (even: `_mta-sts`, odd:
// `_smtp._tls`); the rest is the TXT answer, one record per '\n'-separated
// piece. Invariants checked:
//   - no crash, no sanitizer report;
//   - an ok `_mta-sts` record has an id of 1..32 letters and digits;
//   - an ok `_smtp._tls` record has at most max_report_destinations, each
//     mailto holding one "@", each https URL printing to text that parses
//     back to the same URL;
//   - one record selected from an answer of one gives what parsing it gives.
#include "proxy/sts/sts_record.hpp"
#include "proxy/sts/tlsrpt_record.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace s = dsproxy::sts;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool tlsrpt = (data[0] & 1) != 0;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    std::vector<std::string> answer;
    std::size_t start = 0;
    while (start <= input.size()) {
        const auto nl = input.find('\n', start);
        answer.emplace_back(input.substr(start, nl == std::string_view::npos ? nl : nl - start));
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }

    if (!tlsrpt) {
        const auto r = s::select_sts_record(answer);
        if (r.status == s::record_status::ok) {
            if (r.id.empty() || r.id.size() > 32) std::abort();
            for (const char c : r.id)
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) std::abort();
        }
        if (answer.size() == 1 && r.status != s::record_status::none) {
            const auto direct = s::parse_sts_record(answer[0]);
            if (direct.status != r.status || direct.id != r.id) std::abort();
        }
        return 0;
    }

    const auto r = s::select_tlsrpt_record(answer);
    if (r.status == s::record_status::ok) {
        if (r.rua.size() > s::max_report_destinations) std::abort();
        for (const auto& d : r.rua) {
            if (d.how == s::report_destination::kind::mailto) {
                if (d.address.find('@') == std::string::npos) std::abort();
            } else {
                const auto again = s::parse_https_url(s::to_string(d.url));
                if (!again || !(*again == d.url)) std::abort();
            }
        }
    }
    if (answer.size() == 1 && r.status != s::record_status::none) {
        const auto direct = s::parse_tlsrpt_record(answer[0]);
        if (direct.status != r.status || !(direct.rua == r.rua) || direct.skipped != r.skipped) std::abort();
    }
    return 0;
}
