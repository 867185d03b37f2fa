// tlsa_lookup — see tlsa_lookup.hpp.
#include "proxy/dane/tlsa_lookup.hpp"

#include <algorithm>
#include <array>

namespace dsproxy::dane {

std::string_view to_string(dane_state s) noexcept {
    switch (s) {
    case dane_state::not_applicable: return "not-applicable";
    case dane_state::usable: return "usable";
    case dane_state::unusable: return "unusable";
    case dane_state::lookup_failed: return "lookup-failed";
    }
    return "unknown";
}

std::string_view to_string(skip_reason r) noexcept {
    switch (r) {
    case skip_reason::none: return "none";
    case skip_reason::mode_none: return "dane: none";
    case skip_reason::address_literal: return "the next hop is an address literal";
    case skip_reason::mx_insecure: return "the MX records are not DNSSEC-signed";
    case skip_reason::address_insecure: return "the address records are not DNSSEC-signed";
    case skip_reason::tlsa_insecure: return "the TLSA answer is not DNSSEC-signed";
    case skip_reason::no_tlsa: return "no TLSA records (DNSSEC-proven)";
    }
    return "unknown";
}

std::string_view to_string(dane_action a) noexcept {
    switch (a) {
    case dane_action::none: return "none";
    case dane_action::authenticate: return "authenticate";
    case dane_action::encrypt: return "encrypt";
    case dane_action::refuse_host: return "refuse-host";
    }
    return "unknown";
}

std::string_view to_string(dane_outcome o) noexcept {
    switch (o) {
    case dane_outcome::not_applicable: return "not-applicable";
    case dane_outcome::authenticated: return "authenticated";
    case dane_outcome::unauthenticated_required: return "unauthenticated-required";
    case dane_outcome::failed: return "failed";
    }
    return "unknown";
}

std::string tlsa_owner(std::uint16_t port, std::string_view base_domain) {
    return "_" + std::to_string(port) + "._tcp." + std::string(base_domain);
}

namespace {

// Why DANE cannot apply to `hop` whatever its address records say.
std::optional<skip_reason> skip_before_addresses(config::dane_mode mode, const routing::next_hop& hop) {
    if (mode == config::dane_mode::none) return skip_reason::mode_none;
    if (hop.origin == routing::hop_origin::address_literal || routing::ip_literal_family(hop.host))
        return skip_reason::address_literal;
    if (!hop.name_secure) return skip_reason::mx_insecure;
    return std::nullopt;
}

}  // namespace

std::optional<std::string> early_tlsa_owner(config::dane_mode mode, const routing::next_hop& hop) {
    if (skip_before_addresses(mode, hop)) return std::nullopt;
    return tlsa_owner(hop.port, hop.host);
}

tlsa_lookup::tlsa_lookup(config::dane_mode mode, const routing::next_hop& hop, std::string_view next_hop_domain)
    : port_(hop.port), host_(hop.host), next_hop_domain_(next_hop_domain) {
    auto skip = skip_before_addresses(mode, hop);
    if (!skip && !hop.addresses_secure) skip = skip_reason::address_insecure;
    if (skip) {
        finish_with(*skip);
        return;
    }
    // RFC 7672 §2.2.3: a securely expanded alias is the base domain first.
    if (!hop.canonical.empty() && hop.canonical != hop.host) candidates_.push_back(hop.canonical);
    candidates_.push_back(hop.host);
}

void tlsa_lookup::finish_with(skip_reason r) {
    done_ = true;
    result_ = host_dane{};
    result_.skipped = r;
}

std::optional<std::string> tlsa_lookup::next_query() const {
    if (done_ || next_ >= candidates_.size()) return std::nullopt;
    return tlsa_owner(port_, candidates_[next_]);
}

void tlsa_lookup::on_answer(const routing::rdata_answer& answer) {
    if (done_ || next_ >= candidates_.size()) return;
    const std::string base = candidates_[next_++];
    const auto sec = routing::dnssec_of(answer.status, answer.secure);
    if (sec == routing::dnssec::bogus || sec == routing::dnssec::failure) {
        // RFC 7672 §2.2: cannot tell whether the host publishes TLSA, so it
        // cannot be used (a downgrade could hide there).
        done_ = true;
        result_ = host_dane{};
        result_.state = dane_state::lookup_failed;
        result_.base_domain = base;
        result_.lookup_status = answer.status;
        result_.why_bogus = answer.why_bogus;
        return;
    }
    if (sec == routing::dnssec::insecure || answer.status != routing::dns_status::ok || answer.rdata.empty()) {
        const skip_reason r = sec == routing::dnssec::insecure ? skip_reason::tlsa_insecure : skip_reason::no_tlsa;
        // §2.2.3: nothing at the expanded name, so the host name is tried.
        if (next_ < candidates_.size()) return;
        return finish_with(r);
    }
    done_ = true;
    result_ = host_dane{};
    result_.base_domain = base;
    for (const auto& rdata : answer.rdata) {
        auto record = decode_tlsa(rdata);
        if (!record) {
            ++result_.malformed;
            continue;
        }
        (usable(*record) ? result_.usable : result_.unusable).push_back(std::move(*record));
    }
    result_.state = result_.usable.empty() ? dane_state::unusable : dane_state::usable;
    for (const std::string* name : std::array<const std::string*, 3>{&base, &host_, &next_hop_domain_})
        if (!name->empty() &&
            std::find(result_.reference_names.begin(), result_.reference_names.end(), *name) ==
                result_.reference_names.end())
            result_.reference_names.push_back(*name);
}

dane_action action_of(config::dane_mode mode, const host_dane& host) noexcept {
    if (mode == config::dane_mode::none) return dane_action::none;
    switch (host.state) {
    case dane_state::usable: return dane_action::authenticate;
    case dane_state::lookup_failed: return dane_action::refuse_host;
    case dane_state::unusable:
        return mode == config::dane_mode::mandatory ? dane_action::refuse_host : dane_action::encrypt;
    case dane_state::not_applicable:
        return mode == config::dane_mode::mandatory ? dane_action::refuse_host : dane_action::none;
    }
    return dane_action::refuse_host;
}

dane_outcome outcome_of(dane_action action, bool tls, bool matched) noexcept {
    switch (action) {
    case dane_action::none: return dane_outcome::not_applicable;
    case dane_action::authenticate: return tls && matched ? dane_outcome::authenticated : dane_outcome::failed;
    case dane_action::encrypt: return tls ? dane_outcome::unauthenticated_required : dane_outcome::failed;
    case dane_action::refuse_host: return dane_outcome::failed;
    }
    return dane_outcome::failed;
}

}  // namespace dsproxy::dane
