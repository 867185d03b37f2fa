// tlsrpt_counts — see tlsrpt_counts.hpp.
#include "proxy/sts/tlsrpt_counts.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <utility>

namespace dsproxy::sts {

namespace {

constexpr std::array<std::pair<std::string_view, policy_type>, 3> policy_names{{
    {"sts", policy_type::sts},
    {"tlsa", policy_type::tlsa},
    {"no-policy-found", policy_type::no_policy_found},
}};

constexpr std::array<std::pair<std::string_view, result_type>, 11> result_names{{
    {"starttls-not-supported", result_type::starttls_not_supported},
    {"certificate-host-mismatch", result_type::certificate_host_mismatch},
    {"certificate-not-trusted", result_type::certificate_not_trusted},
    {"certificate-expired", result_type::certificate_expired},
    {"validation-failure", result_type::validation_failure},
    {"tlsa-invalid", result_type::tlsa_invalid},
    {"dnssec-invalid", result_type::dnssec_invalid},
    {"dane-required", result_type::dane_required},
    {"sts-policy-fetch-error", result_type::sts_policy_fetch_error},
    {"sts-policy-invalid", result_type::sts_policy_invalid},
    {"sts-webpki-invalid", result_type::sts_webpki_invalid},
}};

template <typename Table, typename Value>
std::string_view name_of(const Table& table, Value v) noexcept {
    for (const auto& [name, value] : table)
        if (value == v) return name;
    return "?";
}

template <typename Value, typename Table>
std::optional<Value> value_of(const Table& table, std::string_view text) noexcept {
    for (const auto& [name, value] : table)
        if (name == text) return value;
    return std::nullopt;
}

}  // namespace

std::string_view to_string(policy_type t) noexcept { return name_of(policy_names, t); }
std::string_view to_string(result_type r) noexcept { return name_of(result_names, r); }
std::optional<policy_type> parse_policy_type(std::string_view text) noexcept {
    return value_of<policy_type>(policy_names, text);
}
std::optional<result_type> parse_result_type(std::string_view text) noexcept {
    return value_of<result_type>(result_names, text);
}

std::string encode(const tlsrpt_key& key) {
    const nlohmann::json j = nlohmann::json::array({
        to_string(key.type),
        key.policy_text,
        key.failure ? to_string(*key.failure) : std::string_view("success"),
        key.sending_ip,
        key.receiving_mx,
        key.receiving_ip,
    });
    // Invalid UTF-8 from a peer is replaced, never thrown on.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<tlsrpt_key> decode_key(std::string_view text) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_array() || j.size() != 6) return std::nullopt;
    for (const auto& e : j)
        if (!e.is_string()) return std::nullopt;
    tlsrpt_key key;
    const auto type = parse_policy_type(j[0].get<std::string>());
    if (!type) return std::nullopt;
    key.type = *type;
    key.policy_text = j[1].get<std::string>();
    const auto result = j[2].get<std::string>();
    if (result != "success") {
        key.failure = parse_result_type(result);
        if (!key.failure) return std::nullopt;
    }
    key.sending_ip = j[3].get<std::string>();
    key.receiving_mx = j[4].get<std::string>();
    key.receiving_ip = j[5].get<std::string>();
    return key;
}

std::string utc_day(std::int64_t unix_seconds) {
    using namespace std::chrono;
    const year_month_day ymd{floor<days>(sys_seconds{seconds{unix_seconds}})};
    char out[16];
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    return out;
}

}  // namespace dsproxy::sts
