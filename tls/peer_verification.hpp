// peer_verification — is the peer's certificate good enough for the policy?
// (docs/design.md §3, §5, §6.1)
//
// Owns: the after-handshake decision. The handshake itself accepts any chain
// (see context_settings: the verify callback returns 1), so that
// `opportunistic` can log what `domain-secure` would refuse; this function
// then rebuilds an X509_STORE_CTX over the peer's chain, collects every chain
// problem (with CRL checks when the trust store has CRLs), runs the name
// checks through matching::match (never a second implementation), and
// returns one value: verdict, the chain problem in plain words, the matched
// name and rule, or the names presented when none matched.
// Must not: log (proxy/ does), or abort a handshake.
#pragma once

#include "matching/name_matcher.hpp"
#include "tls/openssl_handles.hpp"
#include "tls/trust_store.hpp"

#include <ctime>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::tls {

enum class chain_verdict {
    ok,
    not_checked,     // the request did not ask (levels below validate)
    no_certificate,  // the peer presented none
    untrusted,       // no path to a trust anchor (unknown CA, self-signed)
    expired,
    not_yet_valid,
    revoked,
    crl_missing,     // CRL checks configured, no CRL for an issuer
    crl_expired,     // the CRL is past its nextUpdate
    crl_invalid,     // CRL not yet valid or badly signed
    bad_signature,
    invalid,         // anything else OpenSSL refuses (purpose, CA flags, path length...)
};
std::string_view to_string(chain_verdict v) noexcept;  // plain words: "revoked", "expired", ...
std::ostream& operator<<(std::ostream& os, chain_verdict v);

enum class peer_role { server, client };  // what the peer is to us: purpose checked accordingly

struct verify_request {
    bool check_chain = true;                             // validate and up
    std::optional<matching::reference_name> domain;      // domain / domain-secure: docs/design.md §5 domain rules
    std::optional<matching::reference_name> host;        // match_host: RFC 6125 host rules
    matching::cn_fallback cns = matching::cn_fallback::no_san;
    peer_role role = peer_role::server;
    bool crl_check_all = false;                          // CRLs for every CA, not only the leaf's issuer
    std::optional<std::time_t> at;                       // verification time; now when unset
};

struct chain_problem {
    chain_verdict verdict = chain_verdict::invalid;
    int depth = 0;            // 0 = the peer's own certificate
    std::string subject;      // of the certificate at that depth
    std::string text;         // OpenSSL's wording
};

struct verification_result {
    bool passed = false;
    std::string reason;                     // one sentence when !passed
    chain_verdict chain = chain_verdict::not_checked;
    std::vector<chain_problem> problems;    // every problem found, in order
    std::optional<matching::match_result> domain_match;
    std::optional<matching::match_result> host_match;
    std::vector<std::string> presented;     // names considered, for the log
    std::string subject, issuer, sha256;    // of the peer's certificate
};

// `leaf` may be null (no certificate). `untrusted` is the rest of the chain
// the peer sent (may include the leaf; may be null).
verification_result verify_peer(X509* leaf, STACK_OF(X509)* untrusted, const trust_store& trust,
                                const verify_request& request);

// The same, on a finished handshake.
verification_result verify_peer(SSL& ssl, const trust_store& trust, const verify_request& request);

}  // namespace dsproxy::tls
