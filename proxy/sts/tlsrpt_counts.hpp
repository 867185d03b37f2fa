// tlsrpt_counts — what a TLS report counts (RFC 8460 §4), as plain values.
//
// Owns: the policy types (§4.4) and result types (§4.3) with their one
// table of names, the key one counted session is filed under, and that
// key's text encoding — the same in the SQLite and the Redis store, so a
// counter written by one instance of a fleet is read back by any other.
// Must not: count (the store adds atomically) or build the report
// (tlsrpt_report does).
//
// A successful session is counted under its policy only; a failure also
// under its result type and the addresses of §4.6 (sending MTA, receiving
// MX host name and address), which is what "failure-details" groups by.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::sts {

enum class policy_type { sts, tlsa, no_policy_found };

enum class result_type {
    starttls_not_supported,
    certificate_host_mismatch,
    certificate_not_trusted,
    certificate_expired,
    validation_failure,
    tlsa_invalid,
    dnssec_invalid,
    dane_required,
    sts_policy_fetch_error,
    sts_policy_invalid,
    sts_webpki_invalid,
};

// The RFC's names: "sts", "no-policy-found", "certificate-expired", ...
std::string_view to_string(policy_type t) noexcept;
std::string_view to_string(result_type r) noexcept;
std::optional<policy_type> parse_policy_type(std::string_view text) noexcept;
std::optional<result_type> parse_result_type(std::string_view text) noexcept;

struct tlsrpt_key {
    policy_type type = policy_type::no_policy_found;
    std::string policy_text;  // sts: the policy body; tlsa: the TLSA records, one a line; else empty
    std::optional<result_type> failure;  // nullopt: a successful session
    std::string sending_ip;              // failures only (§4.6 sending-mta-ip)
    std::string receiving_mx;            // failures only (receiving-mx-hostname)
    std::string receiving_ip;            // failures only (receiving-ip)

    friend bool operator==(const tlsrpt_key&, const tlsrpt_key&) = default;
};

struct tlsrpt_count {
    tlsrpt_key key;
    std::uint64_t count = 0;
};

// The key as one line of JSON (an array, so the encoding is canonical):
// equal keys give equal text, and decode(encode(k)) == k.
std::string encode(const tlsrpt_key& key);
std::optional<tlsrpt_key> decode_key(std::string_view text);

// The report day of a UNIX time, "YYYY-MM-DD" in UTC (§4.1 date-range).
std::string utc_day(std::int64_t unix_seconds);

}  // namespace dsproxy::sts
