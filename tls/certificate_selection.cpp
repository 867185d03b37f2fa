// certificate_selection — see certificate_selection.hpp.
#include "tls/certificate_selection.hpp"

#include "tls/certificate_info.hpp"

#include <algorithm>
#include <ostream>

namespace dsproxy::tls {

namespace {

candidate_rank rank_of(const credential& c, std::time_t now) {
    if (!c.valid_at(now)) return candidate_rank::outside_validity;
    if (c.chains_to_trust) return candidate_rank::trusted;
    if (c.info.self_signed) return candidate_rank::self_signed;
    return candidate_rank::untrusted;
}

bool usable_for(const credential& c, certificate_use use) {
    return use == certificate_use::server ? (c.use == certificate_use::server && c.server_auth) : c.client_auth;
}

void order(std::vector<candidate>& list) {
    std::stable_sort(list.begin(), list.end(), [](const candidate& a, const candidate& b) {
        if (a.rank != b.rank) return a.rank < b.rank;
        return a.cert->info.not_before > b.cert->info.not_before;
    });
}

std::vector<candidate> collect(const std::vector<std::shared_ptr<const credential>>& certs, matching::rule by,
                               std::time_t now, certificate_use use) {
    std::vector<candidate> out;
    for (const auto& c : certs)
        if (usable_for(*c, use)) out.push_back({c, rank_of(*c, now), by});
    return out;
}

// Within the winning rank, the key type the client can use (rule 3).
const candidate& pick(const std::vector<candidate>& ordered, bool offers_ecdsa) {
    const auto want = offers_ecdsa ? key_algorithm::ecdsa : key_algorithm::rsa;
    for (const auto& c : ordered) {
        if (c.rank != ordered.front().rank) break;
        if (c.cert->info.key.algorithm == want) return c;
    }
    return ordered.front();
}

selection chosen(const candidate& c, selection_basis basis, std::string key_name) {
    selection s;
    s.cert = c.cert;
    s.basis = basis;
    s.key_name = std::move(key_name);
    s.rank = c.rank;
    return s;
}

}  // namespace

std::string_view to_string(candidate_rank r) noexcept {
    switch (r) {
    case candidate_rank::trusted: return "valid, chains to the trust store";
    case candidate_rank::self_signed: return "valid, self-signed";
    case candidate_rank::untrusted: return "valid, issuer not in the trust store";
    case candidate_rank::outside_validity: return "expired or not yet valid";
    }
    return "?";
}

std::string_view to_string(selection_basis b) noexcept {
    switch (b) {
    case selection_basis::sni: return "sni";
    case selection_basis::fqdn: return "fqdn";
    case selection_basis::pin: return "pin";
    case selection_basis::fallback_any: return "fallback-any";
    case selection_basis::none: return "none";
    }
    return "?";
}

std::ostream& operator<<(std::ostream& os, candidate_rank r) { return os << to_string(r); }
std::ostream& operator<<(std::ostream& os, selection_basis b) { return os << to_string(b); }

std::vector<candidate> rank_candidates(const certificate_store& store, const matching::reference_name& name,
                                       std::time_t now, certificate_use use) {
    auto list = collect(store.exact(name.text()), matching::rule::exact, now, use);
    if (list.empty()) list = collect(store.wildcard(name.text()), matching::rule::wildcard, now, use);
    order(list);
    return list;
}

selection select_certificate(const certificate_store& store, const selection_policy& policy,
                             const handshake_hints& hints, std::time_t now) {
    if (policy.pin) {
        const auto pin = normalize_thumbprint(*policy.pin);
        for (const auto& c : store.all())
            if (pin && (c->info.sha1_thumbprint == *pin || c->info.sha256 == *pin))
                return chosen({c, rank_of(*c, now), matching::rule::exact}, selection_basis::pin, {});
        selection none;
        none.reason = "the pinned certificate " + *policy.pin + " is not in the certificate store";
        return none;
    }
    if (!hints.sni.empty()) {
        if (const auto sni = matching::reference_name::parse(hints.sni)) {
            const auto list = rank_candidates(store, *sni, now, policy.use);
            if (!list.empty()) return chosen(pick(list, hints.offers_ecdsa), selection_basis::sni, sni->text());
        }
    }
    std::string error;
    const auto fqdn = matching::reference_name::parse(policy.fqdn, &error);
    if (fqdn) {
        const auto list = rank_candidates(store, *fqdn, now, policy.use);
        if (!list.empty()) return chosen(pick(list, hints.offers_ecdsa), selection_basis::fqdn, fqdn->text());
    }
    if (policy.fallback == fallback_mode::any) {
        auto list = collect(store.all(), matching::rule::exact, now, policy.use);
        order(list);
        if (!list.empty()) return chosen(pick(list, hints.offers_ecdsa), selection_basis::fallback_any, {});
    }
    selection none;
    none.reason = fqdn ? "no certificate in the store has the name " + fqdn->text() +
                             " (as SAN dNSName, or as CN without SAN), exactly or by wildcard"
                       : "the name '" + policy.fqdn + "' to select a certificate by is not valid: " + error;
    if (policy.fallback == fallback_mode::any) none.reason += ", and the store is empty";
    return none;
}

}  // namespace dsproxy::tls
