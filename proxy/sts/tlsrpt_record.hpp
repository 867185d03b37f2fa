// tlsrpt_record — the `_smtp._tls.<domain>` TXT record of RFC 8460 §3.
//
// Owns: choosing the one record of a TXT answer and reading where reports
// go: `v=TLSRPTv1; rua=mailto:tlsrpt@example.net,https://r.example.net/v1`.
// Must not: look anything up or send anything (tls_report_sender does).
//
// Rules (§3): records that do not begin with "v=TLSRPTv1;" are discarded;
// exactly one may be left. `rua` is required, once; it is a comma-separated
// list of URIs (WSP allowed around the commas). `mailto:` and `https:` URIs
// are used; a URI of any other scheme is a valid URI the sender skips
// (counted in `skipped`). A `mailto:` that does not hold exactly one
// address, or an `https:` URL dsproxy could not request, makes the record
// invalid, as does anything outside the grammar.
#pragma once

#include "proxy/sts/https_url.hpp"
#include "proxy/sts/sts_record.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::sts {

// A report destination taken from `rua`: one of the two.
struct report_destination {
    enum class kind { mailto, https };
    kind how = kind::mailto;
    std::string address;  // mailto: the decoded addr-spec, "local@domain"
    https_url url;        // https: where to POST

    friend bool operator==(const report_destination&, const report_destination&) = default;
};

std::string_view to_string(report_destination::kind k) noexcept;
// "mailto:local@domain" or the https URL, for logs and the report bookkeeping.
std::string to_string(const report_destination& d);

// RFC 8460 gives no limit; this one keeps a hostile record from making us
// send many reports per domain.
inline constexpr std::size_t max_report_destinations = 8;

struct tlsrpt_record {
    record_status status = record_status::none;
    std::vector<report_destination> rua;  // when ok; may be empty if every URI was skipped
    std::size_t skipped = 0;              // URIs of other schemes
};

tlsrpt_record select_tlsrpt_record(const std::vector<std::string>& answer);

// Parses one record that starts with "v=TLSRPTv1;" (exposed for the fuzzer).
tlsrpt_record parse_tlsrpt_record(std::string_view record);

}  // namespace dsproxy::sts
