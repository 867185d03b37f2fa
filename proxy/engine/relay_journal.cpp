// relay_journal — see relay_journal.hpp.
#include "proxy/engine/relay_journal.hpp"

#include "proxy/engine/engine_limits.hpp"
#include "proxy/engine/outbound_router.hpp"
#include "proxy/log/logging.hpp"
#include "proxy/log/value.hpp"

namespace dsproxy::engine {

namespace {

// A next hop's reply as a log value (log/value.hpp): quoted, escaped.
std::string reply_text(const smtp::reply& r) { return log::value(r.first_line(), 200); }

}  // namespace

void relay_journal::route_refused(const std::string& domain, const smtp::reply& refusal,
                                  const std::string& sts_fields) const {
    info("route domain={} refused: {}{}", log::value(domain), reply_text(refusal), sts_fields);
}

void relay_journal::route_chosen(const transaction_route& route, bool reused, const std::string& sts_fields) const {
    info("route domain={} policy={} level={} hosts={}{}{}", route.domain, route.policy_key, upstream_.level(),
         log::value(host_list(upstream_.hosts), limits::log_value), reused ? " (connection reused)" : "",
         sts_fields);
}

void relay_journal::sts_looked_up(const route_decision& d) const {
    if (auto* m = session_.metrics; m && d.sts)
        m->sts_looked_up(sts::to_string(d.sts->outcome.state), sts_source(*d.sts));
}

void relay_journal::routes_elsewhere(const route_decision& d, const transaction_route& route) const {
    info("rcpt domain={} routes elsewhere (policy={}) than this transaction's {}: 452", d.domain, d.policy_key,
         route.domain);
}

void relay_journal::policy_outcome(engine::policy_outcome outcome) const {
    // Per-domain policies are the outbound role's (the inbound role's
    // upstream policy is the backend's, not a domain's).
    if (auto* m = session_.metrics; m && outbound_)
        m->policy_evaluated(policy_direction::outbound, upstream_.policy_entry, config::to_name(upstream_.floor.level),
                            outcome);
}

void relay_journal::policy_refused(const std::string& why) const {
    info("upstream={} result=policy_refused reason={}", upstream_.name, log::value(why, limits::log_value));
}

void relay_journal::client_certificate_unusable(const std::string& why, bool testing) const {
    info("upstream={} {}client_certificate=unusable reason={}", upstream_.name, testing ? "mode=testing " : "",
         log::value(why, limits::log_value));
}

void relay_journal::would_refuse(const std::optional<smtp::failure_kind>& kind, const std::string& host,
                                 const std::string& reason) const {
    if (kind == smtp::failure_kind::starttls_missing)
        info("upstream={} host={} mode=testing reason=would refuse: no TLS (level {})", upstream_.name,
             log::value(host), upstream_.level());
    else
        info("upstream={} mode=testing reason=would refuse: {}", upstream_.name, log::value(reason));
}

void relay_journal::dane_refused_host(const upstream_host& host, const std::string& why) const {
    info("upstream={} host={}:{} dane=failed reason={}", upstream_.name, log::value(host.host), host.port,
         log::value(why, limits::log_value));
    count_dane(dane::dane_outcome::failed);
}

void relay_journal::connected(const std::string& where, bool plain) const {
    info("upstream={} host={} connected{}", upstream_.name, log::value(where),
         plain ? " (plain text after a failed handshake)" : "");
}

void relay_journal::connect_failed(const upstream_host& host, const std::string& why) const {
    info("upstream={} host={}:{} reason={}", upstream_.name, log::value(host.host), host.port,
         log::printable(why, limits::log_value));
}

void relay_journal::trying_next_host() const { info("upstream={} trying the next host", upstream_.name); }

void relay_journal::tls_failed(const std::string& host, const std::string& reason, dane::dane_outcome dane) const {
    info("tls=out upstream={} host={} result=failed reason={} dane={}", upstream_.name, log::value(host),
         log::printable(reason), dane::to_string(dane));
    count_dane(dane);
}

void relay_journal::tls_established(const std::string& host, const net::tls_facts& facts,
                                    const upstream_verdict& verdict, dane::dane_outcome dane,
                                    const std::string& dane_detail) const {
    count_dane(dane);
    info("tls=out upstream={} host={} level={} protocol={} cipher={} verdict={} dane={} dane_detail={}",
         upstream_.name, log::value(host), upstream_.level(), facts.protocol, facts.cipher, verdict.summary,
         dane::to_string(dane), log::value(dane_detail, limits::log_value));
}

void relay_journal::leg_failed(const upstream_leg* leg, const smtp::client_actions::failure& f) const {
    info("upstream={} host={} stage={} reason={}", upstream_.name, leg ? log::value(leg->host.host) : "-",
         smtp::to_string(f.stage), log::value(f.reason));
    if (leg && leg->dane == dane::dane_outcome::failed && !leg->socket.is_tls() &&
        (f.kind == smtp::failure_kind::starttls_missing || f.kind == smtp::failure_kind::starttls_refused)) {
        // RFC 7672 §2.2: DANE required TLS of this host and it offered none.
        info("upstream={} host={} dane=failed reason=no TLS", upstream_.name, log::value(leg->host.host));
        count_dane(dane::dane_outcome::failed);
    }
}

void relay_journal::reply_timed_out(const std::string& host, const std::string& owed) const {
    info("upstream={} host={} reason=timeout waiting for {}", upstream_.name, log::value(host), owed);
}

void relay_journal::write_failed(const std::string& reason) const {
    info("upstream={} reason=write failed: {}", upstream_.name, reason);
}

void relay_journal::note(const std::string& text) const {
    info("upstream={} {}", upstream_.name, log::printable(text, limits::log_value));
}

void relay_journal::transaction(const transaction_record& t, const smtp::reply* final_reply,
                                steady_clock::duration elapsed, std::uint64_t size) const {
    if (auto* m = session_.metrics; m && final_reply) {
        m->upstream_transaction(elapsed);
        if (final_reply->positive()) m->message_relayed(size);
    }
    if (auto* m = session_.metrics; m && !t.sts.empty()) m->sts_transaction(t.sts);
    info("txn {}", transaction_line(t));
}

void relay_journal::count_dane(dane::dane_outcome outcome) const {
    // (not-applicable is not counted: most destinations publish nothing)
    if (auto* m = session_.metrics; m && outcome != dane::dane_outcome::not_applicable)
        m->dane_result(dane::to_string(outcome));
}

}  // namespace dsproxy::engine
