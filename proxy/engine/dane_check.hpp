// dane_check — DANE (RFC 7672) between the sans-I/O rules of proxy/dane and
// a next hop's connection (docs/design.md §6.4): the TLSA lookups of a
// route's hosts, the records handed to OpenSSL, the per-host published
// requirement for next_hop_attempt, and the outcome and sentence of the log.
//
// Owns: nothing beyond one call. Must not: decide what a record or an
// answer means (proxy/dane does), verify certificates (tls/dane_verification
// does, inside OpenSSL), or log (the relay and the probe log, each with its
// session id, the same fields).
#pragma once

#include "proxy/dane/tlsa_lookup.hpp"
#include "proxy/engine/next_hop_attempt.hpp"
#include "proxy/net/dns_resolver.hpp"
#include "proxy/net/route_lookup.hpp"
#include "tls/dane_verification.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::engine {

namespace asio = boost::asio;

// One host's DANE facts and what they demand of its connection.
struct host_dane_check {
    dane::host_dane facts;
    dane::dane_action action = dane::dane_action::none;
};

// Runs proxy/dane's lookup machine for `hop` through `resolver`; a name it
// asks for that is in `early` (looked up alongside the host's addresses,
// dane::early_tlsa_owner) is answered from there, with no further query.
asio::awaitable<host_dane_check> check_host_dane(net::dns_resolver& resolver, config::dane_mode mode,
                                                 const routing::next_hop& hop, const std::string& next_hop_domain,
                                                 const net::tlsa_answers& early);

// What a host publishes for next_hop_attempt: enforce when DANE requires TLS
// (authenticated or not), else `otherwise` (the destination's other sources).
destination_requirement published_by(const host_dane_check* check, destination_requirement otherwise) noexcept;

// The records for OpenSSL when the connection must authenticate.
std::optional<tls::dane_request> dane_request_of(const host_dane_check& check);

// Why a host is refused before connecting (action refuse_host), one sentence.
std::string refusal_reason(const host_dane_check& check);

// What a connection made under `check` was held to, as a key: two route
// decisions whose hosts have the same keys may share a transaction and a
// connection (outbound_route.hpp). The action and, when it authenticates,
// the TLSA base domain and records; the further reference identifiers (the
// next-hop domain among them) only when a DANE-TA(2) record can use them,
// so DANE-EE destinations hosted together still share. Empty: DANE imposes
// nothing (no check, or action none).
std::string requirement_key(const host_dane_check* check);

// The log's `dane_detail=`: the matched record and depth, or why not, or
// why DANE did not apply ("3 1 1 depth=0", "no TLSA record matched: ...").
std::string dane_detail(const host_dane_check* check, const std::optional<tls::dane_result>& result);

}  // namespace dsproxy::engine
