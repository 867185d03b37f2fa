// relay_journal — what one relay session says about its next hops: the log
// lines (their wording is what operators and the integration tests grep
// for) and the metrics they count.
//
// Owns: the wording of every next-hop line relay_session logs, and which
// metric each event counts. Must not: decide anything. Every call reports an
// event relay_session carries out, whose decision next_hop_attempt or
// outbound_route took (docs/design.md §5); relay_session itself is left
// with the I/O.
#pragma once

#include "proxy/dane/tlsa_lookup.hpp"
#include "proxy/engine/front_session.hpp"
#include "proxy/engine/outbound_route.hpp"
#include "proxy/engine/transaction_log.hpp"
#include "proxy/engine/upstream_check.hpp"
#include "proxy/engine/upstream_leg.hpp"
#include "proxy/engine/upstream_settings.hpp"
#include "proxy/smtp/reply.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::engine {

class relay_journal {
public:
    // `upstream` is the session's current next hop (its name, level and
    // hosts change with the route); both outlive the journal. `outbound`:
    // the session routes per domain (its policy outcomes are counted).
    relay_journal(const front_settings& session, const upstream_settings& upstream, bool outbound)
        : session_(session), upstream_(upstream), outbound_(outbound) {}

    // Routing (outbound).
    // `sts_fields`: the route line's MTA-STS fields (sts_route_fields), or empty.
    void route_refused(const std::string& domain, const smtp::reply& refusal, const std::string& sts_fields) const;
    void route_chosen(const transaction_route& route, bool reused, const std::string& sts_fields) const;
    // The recipient domain's MTA-STS lookup, when one ran, counted.
    void sts_looked_up(const route_decision& d) const;
    void routes_elsewhere(const route_decision& d, const transaction_route& route) const;

    // One evaluation of the recipient domain's policy (outbound only).
    void policy_outcome(policy_outcome outcome) const;
    // No host passed the policy: why (the reply says it too).
    void policy_refused(const std::string& why) const;
    // A client certificate is needed and none can be one; `testing`: used anyway.
    void client_certificate_unusable(const std::string& why, bool testing) const;
    // Mode testing: the connection to `host` fails `kind` (or `reason`) and is used anyway.
    void would_refuse(const std::optional<smtp::failure_kind>& kind, const std::string& host,
                      const std::string& reason) const;

    // Connecting.
    void dane_refused_host(const upstream_host& host, const std::string& why) const;
    void connected(const std::string& where, bool plain) const;
    void connect_failed(const upstream_host& host, const std::string& why) const;
    void trying_next_host() const;

    // STARTTLS towards the next hop, and its DANE outcome.
    void tls_failed(const std::string& host, const std::string& reason, dane::dane_outcome dane) const;
    void tls_established(const std::string& host, const net::tls_facts& facts, const upstream_verdict& verdict,
                         dane::dane_outcome dane, const std::string& dane_detail) const;
    // The SMTP leg (`leg` null: none); a failure before STARTTLS of a host
    // DANE required TLS of is a DANE failure too (never plain text).
    void leg_failed(const upstream_leg* leg, const smtp::client_actions::failure& f) const;
    void reply_timed_out(const std::string& host, const std::string& owed) const;
    void write_failed(const std::string& reason) const;
    void note(const std::string& text) const;

    // The transaction's end: its txn line, and (with the final reply) its
    // latency and, accepted, its size; its sts= value, when it has one.
    void transaction(const transaction_record& t, const smtp::reply* final_reply,
                     steady_clock::duration elapsed, std::uint64_t size) const;

private:
    void count_dane(dane::dane_outcome outcome) const;
    template <typename... Args>
    void info(spdlog::format_string_t<Args...> fmt, Args&&... args) const {
        session_.log->info("sid={} {}", session_.session_id, fmt::format(fmt, std::forward<Args>(args)...));
    }

    const front_settings& session_;
    const upstream_settings& upstream_;
    bool outbound_;
};

}  // namespace dsproxy::engine
