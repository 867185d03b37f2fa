// certificate_selection — which local certificate to present (docs/design.md §4.1,
// after Exchange's "Selection of Inbound STARTTLS Certificates").
//
// Owns the order:
//   key name   the client's SNI when the store has a certificate for it, else
//              the listener's fqdn; a pinned thumbprint replaces both;
//   names      certificates with the key name exactly; only when there is
//              none, those whose wildcard covers it (one label);
//   rank       valid now and chaining to the trust store; else valid
//              self-signed; else valid but neither (an unknown issuer); else
//              expired or not yet valid — newest NotBefore first in each rank;
//   key type   when the winning rank holds both ECDSA and RSA certificates,
//              ECDSA goes to clients offering ECDSA signature algorithms and
//              RSA to the rest.
// No certificate is a result with a reason (the listener then does not
// advertise STARTTLS, like Exchange's event 12014), unless `fallback: any`.
// Must not: log or do I/O — a pure function of the store and the request.
#pragma once

#include "matching/name_matcher.hpp"
#include "tls/certificate_store.hpp"

#include <ctime>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::tls {

enum class candidate_rank { trusted, self_signed, untrusted, outside_validity };
std::string_view to_string(candidate_rank r) noexcept;
std::ostream& operator<<(std::ostream& os, candidate_rank r);

struct candidate {
    std::shared_ptr<const credential> cert;
    candidate_rank rank = candidate_rank::trusted;
    matching::rule by = matching::rule::exact;  // exact or wildcard
};

// The candidates for `name` in selection order (`dsproxy cert list --domain`);
// the first is served to a client offering ECDSA when it is ECDSA, see above.
std::vector<candidate> rank_candidates(const certificate_store& store, const matching::reference_name& name,
                                       std::time_t now, certificate_use use = certificate_use::server);

enum class fallback_mode { none, any };

struct selection_policy {
    std::string fqdn;                 // the listener's fqdn (or the configured client certificate name)
    std::optional<std::string> pin;   // SHA-1 or SHA-256 thumbprint, any case/separators
    fallback_mode fallback = fallback_mode::none;
    certificate_use use = certificate_use::server;
};

struct handshake_hints {
    std::string sni;             // empty when the client sent none
    bool offers_ecdsa = false;   // the client's signature_algorithms include ECDSA
};

enum class selection_basis { sni, fqdn, pin, fallback_any, none };
std::string_view to_string(selection_basis b) noexcept;
std::ostream& operator<<(std::ostream& os, selection_basis b);

struct selection {
    std::shared_ptr<const credential> cert;  // null: no certificate
    selection_basis basis = selection_basis::none;
    std::string key_name;                     // the name selected for (empty for a pin)
    candidate_rank rank = candidate_rank::trusted;
    std::string reason;                       // when cert is null: why, in one sentence

    explicit operator bool() const noexcept { return cert != nullptr; }
};

selection select_certificate(const certificate_store& store, const selection_policy& policy,
                             const handshake_hints& hints, std::time_t now);

}  // namespace dsproxy::tls
