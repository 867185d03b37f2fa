// upstream_check — what a policy level decides about an upstream's
// certificate and what the client hears when no host passes (docs/design.md §6.1,
// §6.3). One place for both, used by the relay (relay_session) and by
// `dsproxy probe`, so that the probe's verdict is the relay's verdict.
//
// Owns: the decision after an upstream handshake (the checks of the level
// via tls::verify_peer, which runs the name rules of matching/ — no second
// implementation), its one-line summary for the log, the metrics label of
// a failure, and the reply for an exhausted route.
// Must not: do I/O or log.
#pragma once

#include "proxy/engine/upstream_settings.hpp"
#include "proxy/smtp/reply.hpp"
#include "tls/peer_verification.hpp"

#include <openssl/ssl.h>

#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::engine {

struct upstream_verdict {
    bool passed = true;           // the level accepts this connection (before mode testing)
    bool checked = false;         // the checks ran (a trust store was configured)
    tls::verification_result result;  // what they found, when checked
    std::string summary;          // "passed subject=... sha256=... matched=... rule=..." or "unchecked"
    std::string reason;           // "certificate check failed: ..." when !passed
};

// The checks of `u`'s level on a finished handshake with `host` (the name
// connected to, for match_host).
upstream_verdict judge_upstream_certificate(SSL& ssl, const upstream_settings& u, const std::string& host);

// "passed", "failed" or "unchecked": the verdict's word for the log.
std::string_view verdict_word(const upstream_verdict& v) noexcept;

// The metrics label of a failed check: the chain's problem, else which name
// check failed (a bounded set: chain verdicts and two names).
std::string_view failure_label(const tls::verification_result& v);

// docs/design.md §6.3: no host of the route passed the TLS policy of `domain`; no data
// crosses. 451 4.7.5 (on_failure: defer) or 550 5.7.1 (reject). Outbound the
// text ends in `reason` made reply-safe and capped (the line stays within
// RFC 5321's 512 octets); inbound (`domain` empty: the backend's policy) it
// is generic with the session id: the client learns nothing of the internal
// upstream, whose names are in the log (issue 15). `destination`: the
// destination's own requirement refused (DANE), which RFC 7672 defers:
// 4xx whatever `on_failure` says.
smtp::reply policy_failure_reply(const upstream_settings& u, const std::string& domain, const std::string& reason,
                                 std::string_view session_id, bool destination = false);

// A client certificate is needed (domain-secure, or `client_certificate`
// set) and none can be one (u.client_certificate_problem; issue 15 item 1):
// the policy's failure reply for `no_client_certificate` before any
// connection, instead of a peer refusing a handshake without one later;
// nullopt when none is missing, or in mode testing (the relay then goes on
// without one and says so).
inline constexpr std::string_view no_client_certificate = "no usable client certificate";
std::optional<smtp::reply> client_certificate_refusal(const upstream_settings& u, const std::string& domain,
                                                      std::string_view session_id);

}  // namespace dsproxy::engine
