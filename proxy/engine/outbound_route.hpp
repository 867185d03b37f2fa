// outbound_route — what the outbound router decided for a recipient domain,
// and the rule by which recipients share a transaction (docs/design.md §6.3).
//
// Owns: values only. Two recipients may share a transaction only when both
// their route (the hosts in order) and their policy entry are the same, or
// they are of the same domain; otherwise the second gets 452 4.5.3 (RFC 5321
// §4.5.3.1.10) and comes back in a new transaction. The next transaction
// reuses the connection on the same condition, the domain aside. DANE joins
// the condition (docs/design.md §6.4): what the hosts' TLSA records demand
// (dane_key) must be the same too, since it is per domain (the MX RRset of
// one domain may be secure and another's not; a DANE-TA match names the
// next-hop domain) and a connection is authenticated for what it was
// checked against, nothing more.
// Must not: look anything up (outbound_router does).
#pragma once

#include "proxy/engine/mta_sts.hpp"
#include "proxy/engine/sts_service.hpp"
#include "proxy/engine/upstream_settings.hpp"
#include "proxy/smtp/reply.hpp"

#include <optional>
#include <string>

namespace dsproxy::engine {

struct route_decision {
    std::optional<smtp::reply> refusal;  // routing failed: the RCPT's reply
    upstream_settings upstream;          // hosts in order, TLS policy of the domain
    std::string route_key;               // same key = same next hops
    std::string policy_key;              // the policy entry that applied
    std::string dane_key;                // what DANE demands of the hosts (dane_check requirement_key)
    std::string domain;
    // MTA-STS (docs/design.md §6.4): the lookup, when one ran (mta_sts:
    // opportunistic, MX delivery), and what it applied to the route; its
    // requirement is part of route_key.
    std::optional<sts_lookup> sts;
    sts_application sts_applied;
};

// The route of a transaction in flight, from its first recipient's decision.
// A later recipient joins the transaction, and the next transaction reuses
// its connection, by the rules of this header's first comment.
struct transaction_route {
    std::string route_key, policy_key, dane_key, domain;

    static transaction_route of(const route_decision& d) {
        return {d.route_key, d.policy_key, d.dane_key, d.domain};
    }
    // A connection made for this route serves `d` too: the same next hops
    // under the same policy entry and the same DANE requirements.
    bool same_next_hops(const route_decision& d) const {
        return d.route_key == route_key && d.policy_key == policy_key && d.dane_key == dane_key;
    }
    // `d`'s recipient may join this transaction (else 452 4.5.3).
    bool admits(const route_decision& d) const { return d.domain == domain || same_next_hops(d); }
    // The reply to a later recipient whose decision is `d` when it cannot
    // join: the router's refusal, or 452 4.5.3 (send it again in a new
    // transaction); nullopt when it joins.
    std::optional<smtp::reply> refusal_for(const route_decision& d) const;
};

}  // namespace dsproxy::engine
