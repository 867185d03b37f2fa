// enums — every closed set of words the configuration accepts, as tables.
//
// Owns: the spelling of each enum value in YAML (one table per enum, first
// spelling of a value is the one printed) and the generic parse/print that
// walk those tables.
// Must not: hold defaults (see model.hpp) or know about YAML nodes.
#pragma once

#include "matching/name_matcher.hpp"

#include <array>
#include <span>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::config {

enum class listener_tls { starttls, implicit, none };          // docs/design.md §1
enum class listener_role { inbound, outbound };                 // docs/design.md §1
enum class certificate_fallback { none, any };                  // docs/design.md §4.1
// docs/design.md §4.1: a TLS listener no certificate serves does not start,
// unless plain text (no STARTTLS, as Exchange runs then) is chosen.
enum class listener_without_certificate { refuse, plain };
enum class tls_level { none, opportunistic, encrypt, validate, domain, domain_secure };  // docs/design.md §6.1
enum class failure_action { defer, reject };                    // 4xx or 5xx
enum class policy_mode { enforce, testing };
enum class tls_version { v1_2, v1_3 };
enum class bare_lf_action { reject, normalize };                // docs/design.md §2, SMTP smuggling
enum class log_level { trace, debug, info, warn, error, critical, off };
enum class log_format { text, json };
// Where log lines go (docs/configuration.md, `logging`).
enum class log_target { stderr_stream, syslog, journald };
enum class address_order { ipv6_first, ipv4_first, ipv4_only, ipv6_only };  // outbound next-hop addresses
// docs/design.md §6.4: a policy's use of the destination's TLSA records (RFC 7672),
// Exchange Online's SmtpDaneMode names.
enum class dane_mode { opportunistic, mandatory, none };
// Per policy, whether MTA-STS (RFC 8461) is looked up (docs/design.md §6.4; Exchange Online's MtaStsMode).
enum class mta_sts_mode { opportunistic, none };

template <class E>
struct enum_entry {
    std::string_view name;
    E value;
};

// enum_table<E>::entries lists every accepted spelling; the first entry of a
// value is its canonical spelling.
template <class E>
struct enum_table;

#define DSPROXY_ENUM_TABLE(E, ...)                                        \
    template <>                                                           \
    struct enum_table<E> {                                                \
        static constexpr std::array entries{__VA_ARGS__};                 \
    }

DSPROXY_ENUM_TABLE(listener_tls, enum_entry<listener_tls>{"starttls", listener_tls::starttls},
                   enum_entry<listener_tls>{"implicit", listener_tls::implicit},
                   enum_entry<listener_tls>{"none", listener_tls::none});
DSPROXY_ENUM_TABLE(listener_role, enum_entry<listener_role>{"inbound", listener_role::inbound},
                   enum_entry<listener_role>{"outbound", listener_role::outbound});
DSPROXY_ENUM_TABLE(certificate_fallback, enum_entry<certificate_fallback>{"none", certificate_fallback::none},
                   enum_entry<certificate_fallback>{"any", certificate_fallback::any});
DSPROXY_ENUM_TABLE(listener_without_certificate,
                   enum_entry<listener_without_certificate>{"refuse", listener_without_certificate::refuse},
                   enum_entry<listener_without_certificate>{"plain", listener_without_certificate::plain});
DSPROXY_ENUM_TABLE(tls_level, enum_entry<tls_level>{"none", tls_level::none},
                   enum_entry<tls_level>{"opportunistic", tls_level::opportunistic},
                   enum_entry<tls_level>{"encrypt", tls_level::encrypt},
                   enum_entry<tls_level>{"validate", tls_level::validate},
                   enum_entry<tls_level>{"domain", tls_level::domain},
                   enum_entry<tls_level>{"domain-secure", tls_level::domain_secure});
DSPROXY_ENUM_TABLE(failure_action, enum_entry<failure_action>{"defer", failure_action::defer},
                   enum_entry<failure_action>{"reject", failure_action::reject});
DSPROXY_ENUM_TABLE(mta_sts_mode, enum_entry<mta_sts_mode>{"opportunistic", mta_sts_mode::opportunistic},
                   enum_entry<mta_sts_mode>{"none", mta_sts_mode::none});
DSPROXY_ENUM_TABLE(policy_mode, enum_entry<policy_mode>{"enforce", policy_mode::enforce},
                   enum_entry<policy_mode>{"testing", policy_mode::testing});
DSPROXY_ENUM_TABLE(tls_version, enum_entry<tls_version>{"1.2", tls_version::v1_2},
                   enum_entry<tls_version>{"1.3", tls_version::v1_3},
                   enum_entry<tls_version>{"TLSv1.2", tls_version::v1_2},
                   enum_entry<tls_version>{"TLSv1.3", tls_version::v1_3});
DSPROXY_ENUM_TABLE(bare_lf_action, enum_entry<bare_lf_action>{"reject", bare_lf_action::reject},
                   enum_entry<bare_lf_action>{"normalize", bare_lf_action::normalize});
DSPROXY_ENUM_TABLE(log_level, enum_entry<log_level>{"trace", log_level::trace},
                   enum_entry<log_level>{"debug", log_level::debug}, enum_entry<log_level>{"info", log_level::info},
                   enum_entry<log_level>{"warn", log_level::warn}, enum_entry<log_level>{"error", log_level::error},
                   enum_entry<log_level>{"critical", log_level::critical},
                   enum_entry<log_level>{"off", log_level::off});
DSPROXY_ENUM_TABLE(log_format, enum_entry<log_format>{"text", log_format::text},
                   enum_entry<log_format>{"json", log_format::json});
DSPROXY_ENUM_TABLE(log_target, enum_entry<log_target>{"stderr", log_target::stderr_stream},
                   enum_entry<log_target>{"syslog", log_target::syslog},
                   enum_entry<log_target>{"journald", log_target::journald});
DSPROXY_ENUM_TABLE(address_order, enum_entry<address_order>{"ipv6-first", address_order::ipv6_first},
                   enum_entry<address_order>{"ipv4-first", address_order::ipv4_first},
                   enum_entry<address_order>{"ipv4-only", address_order::ipv4_only},
                   enum_entry<address_order>{"ipv6-only", address_order::ipv6_only});
DSPROXY_ENUM_TABLE(dane_mode, enum_entry<dane_mode>{"opportunistic", dane_mode::opportunistic},
                   enum_entry<dane_mode>{"mandatory", dane_mode::mandatory},
                   enum_entry<dane_mode>{"none", dane_mode::none});
DSPROXY_ENUM_TABLE(matching::cn_fallback,
                   enum_entry<matching::cn_fallback>{"no-san", matching::cn_fallback::no_san},
                   enum_entry<matching::cn_fallback>{"always", matching::cn_fallback::always});

#undef DSPROXY_ENUM_TABLE

template <class E>
std::string_view to_name(E value) noexcept {
    for (const auto& e : enum_table<E>::entries)
        if (e.value == value) return e.name;
    return "?";
}

// Accepted spellings joined for an error message: "`a`, `b` or `c`".
std::string describe_choices(std::span<const std::string_view> names);

// Parses one spelling (exact, case-sensitive, as the tables list it). On
// failure the error lists the choices and suggests the nearest one.
template <class E>
std::optional<E> parse_enum(std::string_view text, std::string* error = nullptr);

// Implementation detail of parse_enum: the error sentence.
std::string enum_error(std::string_view text, std::span<const std::string_view> names);

template <class E>
std::optional<E> parse_enum(std::string_view text, std::string* error) {
    for (const auto& e : enum_table<E>::entries)
        if (e.name == text) return e.value;
    if (error) {
        std::array<std::string_view, enum_table<E>::entries.size()> names{};
        for (std::size_t i = 0; i < names.size(); ++i) names[i] = enum_table<E>::entries[i].name;
        *error = enum_error(text, names);
    }
    return std::nullopt;
}

}  // namespace dsproxy::config
