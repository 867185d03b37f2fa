// policy — the per-domain TLS policy of docs/design.md §6 and its lookup table.
//
// Owns: one policy entry with every docs/design.md §6.1 key and its default, and the
// lookup order: the exact domain, then the nearest `.parent` entry, then
// `default`. Lookup is O(labels) (see domain_table.hpp).
// Must not: evaluate a TLS result against a policy (that is the proxy's job);
// this is data.
#pragma once

#include "config/address.hpp"
#include "config/certificate_ref.hpp"
#include "config/diagnostic.hpp"
#include "config/domain_table.hpp"
#include "config/enums.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::config {

// Port assumed for a route or upstream host written without one.
inline constexpr std::uint16_t smtp_port = 25;

struct domain_policy {
    tls_level level = tls_level::opportunistic;
    failure_action on_failure = failure_action::defer;
    policy_mode mode = policy_mode::enforce;
    std::optional<std::string> tls_domain;  // names checked against this; default: the looked-up domain
    bool match_host = false;                // also RFC 6125 host rules against the next hop's name
    tls_version min_tls = tls_version::v1_2;
    std::string ciphers;                    // OpenSSL cipher list; empty: the built-in hardened list
    std::optional<std::string> ca_file;     // trust anchors for this partner only (absolute path)
    std::vector<std::string> crl;           // CRL files (absolute paths)
    std::optional<certificate_ref> client_certificate;
    matching::cn_fallback cn_fallback = matching::cn_fallback::no_san;
    std::vector<host_port> route;           // static next hops in order; empty: MX, then A/AAAA
    // docs/design.md §6.4: the destination's TLSA records (RFC 7672), outbound only.
    dane_mode dane = dane_mode::opportunistic;
    mta_sts_mode mta_sts = mta_sts_mode::opportunistic;  // RFC 8461 lookup for MX delivery (docs/design.md §6.4)
    source_location where;                  // the key's place; empty for the built-in default
};

// Which entry answered a lookup.
enum class policy_source { exact, parent, fallback };
std::string_view to_string(policy_source source) noexcept;

struct policy_match {
    const domain_policy* policy = nullptr;
    policy_source source = policy_source::fallback;
    std::string_view key;  // the entry's domain (no leading dot), or "default"
};

class policy_table {
public:
    // Returns the existing entry when `key` is already present.
    const domain_policy* insert(const domain_key& key, domain_policy policy) {
        return entries_.insert(key, std::move(policy));
    }
    void set_default(domain_policy policy) { default_ = std::move(policy); }

    // `domain` in canonical form (matching::reference_name::text()).
    policy_match lookup(std::string_view domain) const {
        if (const auto hit = entries_.lookup(domain))
            return {hit->value, hit->kind == match_kind::exact ? policy_source::exact : policy_source::parent,
                    hit->key};
        return {&default_, policy_source::fallback, "default"};
    }

    const domain_policy& fallback() const noexcept { return default_; }
    const domain_table<domain_policy>& entries() const noexcept { return entries_; }

private:
    domain_table<domain_policy> entries_;
    domain_policy default_;
};

}  // namespace dsproxy::config
