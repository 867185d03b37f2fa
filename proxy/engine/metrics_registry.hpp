// metrics_registry — the counters of one `dsproxy run` process, rendered in
// the Prometheus text exposition format (version 0.0.4) for the metrics
// listener (docs/design.md §8).
//
// Owns: every counter, gauge and histogram, and their names (listed in
// docs/configuration.md, "Metrics"). main owns the one registry and passes
// it down by pointer (no global state); a null pointer means "not counted"
// (the development sink).
// Threading: each I/O thread updates its own registry (no cache line is
// shared between threads on the hot path); a scrape, on the main thread,
// copies every registry and renders the sum (render(span)). Each registry
// has a mutex for that copy: its own thread takes it uncontended for a few
// increments per event, the scraper takes it briefly per registry.
// Must not: do I/O, or take label values from the network — labels come from
// small fixed sets (directions, results, reply classes, chain verdicts,
// policy levels) or from the configuration (listener names, policy keys),
// so cardinality stays bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::engine {

// Why a connection was closed before its session started.
enum class refusal {
    over_total,
    over_per_client,
    over_connection_rate,
    over_message_rate,
    not_allowed_client,
    no_upstream,
    proxy_untrusted,
    proxy_header,
};
std::string_view to_string(refusal r) noexcept;

enum class tls_leg { in, out };  // client leg (we are the TLS server) or upstream leg

// Whose per-domain policy (docs/design.md §6): the sender domain's, checked at MAIL
// FROM on an inbound listener (§6.2), or the recipient domain's, enforced on
// the next hop of an outbound transaction (§6.3).
enum class policy_direction { inbound, outbound };

// One certificate of the store, as the expiry gauge shows it.
struct certificate_sample {
    std::string name;        // the first name it serves (or its subject when it has none)
    std::string thumbprint;  // SHA-1, the Exchange Thumbprint that pins and `cert list` use
    std::string use;         // "server" or "client"
    std::int64_t not_after = 0;  // Unix time
};
// One listener of the current snapshot, as the STARTTLS gauge shows it.
struct listener_tls_sample {
    std::string listener;
    bool starttls = false;  // a certificate serves it: STARTTLS (or implicit TLS) is offered
};
enum class policy_outcome { passed, refused, would_refuse };  // would_refuse: mode testing, relayed

class metrics_registry {
public:
    metrics_registry();

    void connection_opened(std::string_view listener);
    void connection_closed();
    void connection_refused(refusal why);
    // `version` is the protocol ("TLSv1.3") when ok, ignored otherwise.
    void tls_handshake(tls_leg l, bool ok, std::string_view version);
    // `level` is the policy level that asked for the check ("validate"...);
    // `reason` a chain verdict's words or "domain name mismatch"/"host name mismatch".
    void verification_failed(tls_leg l, std::string_view level, std::string_view reason);
    // One evaluation of a per-domain policy. `domain` is the policy entry
    // that applied: a configured key ("contoso.com", ".contoso.com") or
    // "other" for the default policy, so cardinality is the configuration's.
    void policy_evaluated(policy_direction d, std::string_view domain, std::string_view level, policy_outcome o);
    // One next-hop connection's DANE outcome (RFC 7672; the log's `dane=`),
    // not-applicable not counted: authenticated, unauthenticated-required, failed.
    void dane_result(std::string_view outcome);
    // MTA-STS (docs/design.md §6.4): one lookup's state and source, and one
    // transaction's `sts=` value (mta_sts.hpp sts_log_value: a fixed set).
    void sts_looked_up(std::string_view state, std::string_view source);
    void sts_transaction(std::string_view value);
    void message_relayed(std::uint64_t bytes);
    // The first digit of a reply's code picks the class.
    void reply_sent(std::string_view reply_text);
    void upstream_connected(std::chrono::steady_clock::duration took);
    void upstream_transaction(std::chrono::steady_clock::duration took);

    std::uint64_t connections_current() const;

    // The whole exposition of this registry, ready for an HTTP body.
    std::string render() const;
    // The sum of several registries (one per I/O thread): counters and
    // histogram buckets added, label sets merged, the gauge summed.
    static std::string render(std::span<const metrics_registry* const> registries);
    // dsproxy_certificate_expiry_timestamp_seconds: the store's certificates
    // (a gauge of the current snapshot, not a counter of events), so an alert
    // can fire on `... - time() < 14 * 86400` when a renewal did not happen.
    static std::string render_certificates(std::span<const certificate_sample> certificates);
    // dsproxy_listener_starttls: 1 for a listener that offers TLS, 0 for
    // one that does not (tls: none, or no usable certificate: issue 19 item 7),
    // so that an alert fires when a certificate problem turned STARTTLS off.
    static std::string render_listeners(std::span<const listener_tls_sample> listeners);

private:
    struct histogram {
        std::vector<double> bounds;         // upper bounds in seconds, ascending
        std::vector<std::uint64_t> counts;  // per bound (not cumulative); last: +Inf
        double sum = 0;
        std::uint64_t count = 0;
        void observe(double seconds);
        void add(const histogram& other);
    };
    // Counter families keyed by their rendered label set ("a=\"x\",b=\"y\"").
    using family = std::map<std::string, std::uint64_t, std::less<>>;

    struct values {
        family connections, refused, handshakes, verification_failures, policy_outcomes, replies, dane_results,
            sts_lookups, sts_transactions;
        std::uint64_t current = 0;
        std::uint64_t messages = 0, message_bytes = 0;
        histogram connect_latency, transaction_latency;
        void add(const values& other);
    };

    values snapshot() const;  // a copy, taken under the lock
    static std::string render(const values& v);

    mutable std::mutex mutex_;  // guards v_
    values v_;
};

}  // namespace dsproxy::engine
