// tlsrpt_report — the daily TLS report of RFC 8460 §4 and its two ways out
// (§5.2 HTTPS POST, §5.3 mail), built from one domain's counters. Sans-I/O.
//
// Owns: the JSON report (one "policies" entry per policy type and text, its
// summary and "failure-details" grouped by result type and addresses), its
// gzip form (application/tlsrpt+gzip), the report id and file name of
// §5.3, and the mail message with the §5.3 headers (Subject, TLS-Report-
// Domain, TLS-Report-Submitter, multipart/report; report-type="tlsrpt").
// Must not: read the store, send, or decide whether to report (the
// tls_report_sender does).
// Uses zlib for gzip and OpenSSL's base64 codec; no sockets.
#pragma once

#include "proxy/sts/tlsrpt_counts.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::sts {

// `tls_reporting` of the configuration, and who sends.
struct report_sender_facts {
    std::string organization;  // "organization-name"
    std::string contact;       // "contact-info"
    std::string from;          // the From address of mailed reports
    std::string submitter;     // our host name (TLS-Report-Submitter, the report id's domain)
};

struct report_period {
    std::string day;           // "YYYY-MM-DD", UTC
    std::int64_t start = 0;    // day 00:00:00 UTC
    std::int64_t end = 0;      // day 23:59:59 UTC
};
// The period of a UTC day given as "YYYY-MM-DD"; start == end == 0 when it
// is not a valid date.
report_period period_of(std::string_view day);

// "<day>T00:00:00Z_<domain>@<submitter>": one id per domain and day, the
// same from every instance (only one of them sends it).
std::string report_id(const report_period& period, std::string_view domain, std::string_view submitter);

// The RFC 8460 §4 report, JSON text.
std::string build_report(const report_sender_facts& facts, const report_period& period, std::string_view domain,
                         const std::vector<tlsrpt_count>& counts);

// gzip (RFC 1952) of `data`.
std::string gzip(std::string_view data);

// §5.3: "submitter!domain!begin!end!id.json.gz" (id without characters a
// file name cannot hold).
std::string report_file_name(const report_period& period, std::string_view domain, std::string_view submitter);

// The whole message (CRLF lines) to `to`, the gzip report attached in base64.
// `date` is the RFC 5322 Date header's value.
std::string build_report_mail(const report_sender_facts& facts, const report_period& period, std::string_view domain,
                              std::string_view to, std::string_view gzipped, std::string_view date);

}  // namespace dsproxy::sts
