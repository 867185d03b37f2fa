// mta_sts — how a recipient domain's MTA-STS policy (RFC 8461) enters the
// next-hop decision (docs/design.md §6.4), sans-I/O.
//
// Owns: the values between the lookups and the next-hop machine:
//   - what a `_mta-sts` TXT answer means for the cache (answered or not);
//   - a store row parsed again into a known policy (a row that no longer
//     parses is no cache at all, never a partial policy);
//   - which of the route's MX hosts a policy allows (RFC 8461 §4.1: in mode
//     enforce only hosts matching an `mx` pattern are used; in mode testing
//     every host is used and a non-matching one is reported);
//   - the destination requirement it publishes into combine();
//   - the destination's certificate check (§4.2: the chain trusted by the
//     WebPKI trust store, the MX host name in the certificate by RFC 6125),
//     as a verify_request and as a TLS-RPT result type when it fails;
//   - the log's `sts=` value of a transaction.
// Must not: look anything up, fetch, read the store, or log (sts_service and
// the relay do); the cache rules themselves are sts/policy_cache.
#pragma once

#include "proxy/engine/next_hop_attempt.hpp"
#include "proxy/routing/dns_answer.hpp"
#include "proxy/store/policy_store.hpp"
#include "proxy/sts/policy_cache.hpp"
#include "proxy/sts/tlsrpt_counts.hpp"
#include "tls/peer_verification.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::engine {

// NXDOMAIN and NODATA answer "no record"; a failure (timeout, SERVFAIL,
// bogus) says nothing, so the cache stays in force (RFC 8461 §5.1).
sts::txt_lookup txt_lookup_of(const routing::rdata_answer& answer);

// The store's row as a policy again; nullopt when its body no longer parses.
std::optional<sts::known_policy> known_of(const store::cached_policy& row);
store::cached_policy row_of(const std::string& domain, const sts::known_policy& policy);

// What a delivery to the domain applies.
struct sts_application {
    sts::sts_state state = sts::sts_state::no_policy;
    std::string id;                                                  // the policy's id when one applies
    destination_requirement requirement = destination_requirement::none;
    std::vector<std::size_t> hosts;          // indices into the route's hosts, in order, to be used
    std::vector<std::string> not_listed;     // hosts no `mx` pattern matches (enforce: skipped; testing: used)
    bool check_certificate = false;          // judge each next hop's certificate (enforce, testing)
};

// `hosts`: the route's MX host names in order. An `off` lookup (mta_sts:
// none, a static route, an address literal) passes sts_state::no_policy.
// `dane_authenticated[i]`: DANE authenticates hosts[i] (its usable TLSA
// records, RFC 7672); DANE takes precedence there (RFC 8461 §2), so an
// enforced policy does not drop it (it is still named in not_listed).
sts_application apply_policy(const sts::sts_outcome& outcome, const std::vector<std::string>& hosts,
                             const std::vector<bool>& dane_authenticated = {});

// The MTA-STS certificate check of `mx_host` (§4.2): chain and host name.
tls::verify_request sts_verify_request(const std::string& mx_host);

// The RFC 8460 §4.3 result type of a failed check.
sts::result_type report_failure(const tls::verification_result& r);

// The transaction's `sts=` value: "off" (not looked up), the state's word
// when no policy applies (none-published, none, fetch-failed, invalid),
// else "<mode>-ok" or "<mode>-failed" by the check of the connection used
// (`passed`: nullopt when no connection was judged: "<mode>-failed" too,
// as a plain-text delivery under testing or a refusal under enforce is).
std::string sts_log_value(bool looked_up, sts::sts_state state, std::optional<bool> passed);

}  // namespace dsproxy::engine
