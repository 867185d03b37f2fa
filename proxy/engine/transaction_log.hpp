// transaction_log — the relay's log lines about a transaction and its route,
// as pure functions of what happened (docs/design.md §8): the `txn` line, the
// next hop's TLS summary in it, and the route line's host list.
//
// Owns: nothing; formatting only. Every value that came from a peer (the
// envelope, a reply, a certificate name) goes through log::value, so no peer
// can end a line early or forge a field (docs/design.md §10).
// Must not: log (the session logs what this returns, with its session id) or
// read the clock (the caller passes the duration).
#pragma once

#include "proxy/engine/upstream_check.hpp"
#include "proxy/engine/upstream_settings.hpp"
#include "proxy/smtp/address.hpp"
#include "proxy/smtp/esmtp_params.hpp"
#include "proxy/net/tls_socket.hpp"
#include "proxy/smtp/reply.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::engine {

// One transaction as the relay saw it, from MAIL to its end.
struct transaction_record {
    std::string from;                     // the reverse path, as on the wire: <a@b>
    std::vector<std::string> recipients;  // forward paths accepted so far, as on the wire
    std::uint64_t size = 0;               // content octets from the client
    std::string upstream;                 // the route (mx:DOMAIN) or the backend's name
    std::optional<smtp::reply> final_reply;  // the next hop's reply to the content, if one came
    std::string failure;                  // else why there was none ("aborted", a lost connection)
    std::chrono::milliseconds duration{0};
    std::string host;                     // host:port of the next hop used, or empty
    std::string tls;                      // tls_summary of that connection, or empty
    std::string dane;                     // that connection's dane= outcome (dane::to_string), or empty
    std::string sts;                      // outbound: the sts= value (mta_sts.hpp sts_log_value), or empty
    std::string sts_id;                   // the MTA-STS policy id that applied, or empty
};

// The transaction in flight, from its MAIL to the line that ends it: what a
// fail-over sends again (the MAIL) and what the `txn` line reports.
struct transaction_in_flight {
    smtp::path from;
    smtp::mail_parameters params;
    std::vector<std::string> recipients;  // accepted so far, as on the wire
    std::uint64_t size = 0;               // content octets from the client
    steady_clock::time_point started;

    // The record of this transaction for the `txn` line, ended at `now` with
    // `final_reply` or, without one, `failure`; `host` and `tls` describe the
    // connection used (empty without one). Takes the recipient list.
    transaction_record end(const smtp::reply* final_reply, std::string_view failure, std::string upstream,
                           std::string host, std::string tls, steady_clock::time_point now);
};

// The `txn` line's fields: `from=... to=... size=... upstream=... result=...
// duration_ms=... host=... tls=... dane=... sts=... sts_id=...` (the session adds `sid=` and
// `txn`). result= is the whole final reply, its lines joined by " | ",
// capped at limits::log_value.
std::string transaction_line(const transaction_record& t);

// The TLS of a next-hop connection for the `txn` line: the protocol and the
// verdict's word, and the name that matched and by which rule, when one did
// ("TLSv1.3 verified matched=\"*.partner.test\" rule=wildcard"). Without the
// subject and fingerprint, which the `tls=out` line already has.
std::string tls_summary(const net::tls_facts& facts, const upstream_verdict& verdict);

// The route line's hosts: "mx1.example:25,mx2.example:25".
std::string host_list(const std::vector<upstream_host>& hosts);

}  // namespace dsproxy::engine
