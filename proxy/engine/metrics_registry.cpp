// metrics_registry — see metrics_registry.hpp. Format reference: the
// Prometheus "text-based exposition format" (HELP, TYPE, samples; label
// values escape backslash, double quote and newline).
#include "proxy/engine/metrics_registry.hpp"

#include <fmt/format.h>

#include <cctype>

namespace dsproxy::engine {

namespace {

std::string escape_label(std::string_view v) {
    std::string out;
    for (const char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string label(std::string_view name, std::string_view value) {
    return std::string(name) + "=\"" + escape_label(value) + '"';
}

std::string_view leg_name(tls_leg l) { return l == tls_leg::in ? "in" : "out"; }

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void family_samples(std::string& out, std::string_view name, const std::map<std::string, std::uint64_t, std::less<>>& f) {
    for (const auto& [labels, value] : f) out += fmt::format("{}{{{}}} {}\n", name, labels, value);
}

// Upstream latencies: LAN backends answer in milliseconds, Internet MX hosts
// in tenths of seconds to tens of seconds (RFC 5321 allows minutes).
const std::vector<double> latency_bounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

}  // namespace

std::string_view to_string(refusal r) noexcept {
    switch (r) {
        case refusal::over_total: return "max_connections";
        case refusal::over_per_client: return "max_connections_per_client";
        case refusal::over_connection_rate: return "connection_rate_per_client";
        case refusal::over_message_rate: return "message_rate_per_client";
        case refusal::not_allowed_client: return "not_in_allowed_clients";
        case refusal::no_upstream: return "no_upstream";
        case refusal::proxy_untrusted: return "proxy_source_not_trusted";
        case refusal::proxy_header: return "bad_proxy_header";
    }
    return "other";
}

void metrics_registry::histogram::observe(double seconds) {
    std::size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i]) ++i;
    ++counts[i];
    sum += seconds;
    ++count;
}

void metrics_registry::histogram::add(const histogram& other) {
    // Every registry uses the same bounds (latency_bounds).
    for (std::size_t i = 0; i < counts.size() && i < other.counts.size(); ++i) counts[i] += other.counts[i];
    sum += other.sum;
    count += other.count;
}

void metrics_registry::values::add(const values& other) {
    for (auto [mine, theirs] : {std::pair{&connections, &other.connections}, std::pair{&refused, &other.refused},
                                std::pair{&handshakes, &other.handshakes},
                                std::pair{&verification_failures, &other.verification_failures},
                                std::pair{&policy_outcomes, &other.policy_outcomes},
                                std::pair{&replies, &other.replies},
                                std::pair{&dane_results, &other.dane_results},
                                std::pair{&sts_lookups, &other.sts_lookups},
                                std::pair{&sts_transactions, &other.sts_transactions}})
        for (const auto& [labels, value] : *theirs) (*mine)[labels] += value;
    current += other.current;
    messages += other.messages;
    message_bytes += other.message_bytes;
    connect_latency.add(other.connect_latency);
    transaction_latency.add(other.transaction_latency);
}

metrics_registry::metrics_registry() {
    for (auto* h : {&v_.connect_latency, &v_.transaction_latency}) {
        h->bounds = latency_bounds;
        h->counts.assign(latency_bounds.size() + 1, 0);
    }
    // Zero samples for the fixed label sets, so a scrape shows them (and
    // rate() works) before the first event.
    for (const auto* c : {"2xx", "3xx", "4xx", "5xx"}) v_.replies[label("class", c)] = 0;
    for (const auto l : {tls_leg::in, tls_leg::out})
        for (const auto* r : {"ok", "failed"}) v_.handshakes[label("leg", leg_name(l)) + "," + label("result", r)] = 0;
}

void metrics_registry::connection_opened(std::string_view listener) {
    const auto key = label("listener", listener);
    const std::lock_guard lock(mutex_);
    ++v_.connections[key];
    ++v_.current;
}

void metrics_registry::connection_closed() {
    const std::lock_guard lock(mutex_);
    if (v_.current > 0) --v_.current;
}

void metrics_registry::connection_refused(refusal why) {
    const auto key = label("reason", to_string(why));
    const std::lock_guard lock(mutex_);
    ++v_.refused[key];
}

void metrics_registry::tls_handshake(tls_leg l, bool ok, std::string_view version) {
    const std::string key = label("leg", leg_name(l)) + "," + label("result", ok ? "ok" : "failed");
    const std::string versioned = ok ? key + "," + label("version", version.empty() ? "unknown" : version) : "";
    const std::lock_guard lock(mutex_);
    ++v_.handshakes[key];
    if (ok) ++v_.handshakes[versioned];
}

void metrics_registry::verification_failed(tls_leg l, std::string_view level, std::string_view reason) {
    // "not yet valid" -> not_yet_valid: label values in the usual style.
    std::string value(reason);
    for (auto& c : value) c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto key = label("leg", leg_name(l)) + "," + label("level", level) + "," + label("reason", value);
    const std::lock_guard lock(mutex_);
    ++v_.verification_failures[key];
}

void metrics_registry::dane_result(std::string_view outcome) {
    const auto key = label("outcome", outcome);
    const std::lock_guard lock(mutex_);
    ++v_.dane_results[key];
}

void metrics_registry::policy_evaluated(policy_direction d, std::string_view domain, std::string_view level,
                                        policy_outcome o) {
    const std::string_view outcome = o == policy_outcome::passed    ? "passed"
                                     : o == policy_outcome::refused ? "refused"
                                                                    : "would_refuse";
    const auto key = label("direction", d == policy_direction::inbound ? "inbound" : "outbound") + "," +
                     label("domain", domain) + "," + label("level", level) + "," + label("outcome", outcome);
    const std::lock_guard lock(mutex_);
    ++v_.policy_outcomes[key];
}

void metrics_registry::sts_looked_up(std::string_view state, std::string_view source) {
    const auto key = label("state", state) + "," + label("source", source);
    const std::lock_guard lock(mutex_);
    ++v_.sts_lookups[key];
}

void metrics_registry::sts_transaction(std::string_view value) {
    const auto key = label("sts", value);
    const std::lock_guard lock(mutex_);
    ++v_.sts_transactions[key];
}

void metrics_registry::message_relayed(std::uint64_t bytes) {
    const std::lock_guard lock(mutex_);
    ++v_.messages;
    v_.message_bytes += bytes;
}

void metrics_registry::reply_sent(std::string_view reply_text) {
    const char c = reply_text.empty() ? '?' : reply_text.front();
    if (c < '2' || c > '5') return;  // not a reply: nothing to count
    const auto key = label("class", std::string(1, c) + "xx");
    const std::lock_guard lock(mutex_);
    ++v_.replies[key];
}

void metrics_registry::upstream_connected(std::chrono::steady_clock::duration took) {
    const std::lock_guard lock(mutex_);
    v_.connect_latency.observe(std::chrono::duration<double>(took).count());
}

void metrics_registry::upstream_transaction(std::chrono::steady_clock::duration took) {
    const std::lock_guard lock(mutex_);
    v_.transaction_latency.observe(std::chrono::duration<double>(took).count());
}

std::uint64_t metrics_registry::connections_current() const {
    const std::lock_guard lock(mutex_);
    return v_.current;
}

metrics_registry::values metrics_registry::snapshot() const {
    const std::lock_guard lock(mutex_);
    return v_;
}

std::string metrics_registry::render() const { return render(snapshot()); }

std::string metrics_registry::render(std::span<const metrics_registry* const> registries) {
    if (registries.empty()) return metrics_registry().render();
    values total = registries.front()->snapshot();
    for (const auto* r : registries.subspan(1)) total.add(r->snapshot());
    return render(total);
}

std::string metrics_registry::render_certificates(std::span<const certificate_sample> certificates) {
    std::string out;
    header(out, "dsproxy_certificate_expiry_timestamp_seconds", "gauge",
           "When each certificate of the store expires (its notAfter, Unix time), by name, SHA-1 thumbprint and use.");
    for (const auto& c : certificates)
        out += fmt::format("dsproxy_certificate_expiry_timestamp_seconds{{{},{},{}}} {}\n", label("name", c.name),
                           label("thumbprint", c.thumbprint), label("use", c.use), c.not_after);
    return out;
}

std::string metrics_registry::render_listeners(std::span<const listener_tls_sample> listeners) {
    std::string out;
    header(out, "dsproxy_listener_starttls", "gauge",
           "1 when the listener offers TLS (STARTTLS, or implicit TLS), 0 when it does not (tls: none, or no "
           "usable certificate).");
    for (const auto& l : listeners)
        out += fmt::format("dsproxy_listener_starttls{{{}}} {}\n", label("listener", l.listener), l.starttls ? 1 : 0);
    return out;
}

std::string metrics_registry::render(const values& v) {
    std::string out;
    header(out, "dsproxy_connections_total", "counter", "Client connections admitted, by listener.");
    family_samples(out, "dsproxy_connections_total", v.connections);
    header(out, "dsproxy_connections_current", "gauge", "Client sessions open now.");
    out += fmt::format("dsproxy_connections_current {}\n", v.current);
    header(out, "dsproxy_connections_refused_total", "counter", "Client connections closed before a session, by reason.");
    family_samples(out, "dsproxy_connections_refused_total", v.refused);
    header(out, "dsproxy_tls_handshakes_total", "counter",
           "TLS handshakes by leg (in: with clients, out: with upstreams) and result; successful ones also by version.");
    family_samples(out, "dsproxy_tls_handshakes_total", v.handshakes);
    header(out, "dsproxy_tls_verification_failures_total", "counter",
           "Peer certificates that failed the policy's checks, by leg, policy level and reason.");
    family_samples(out, "dsproxy_tls_verification_failures_total", v.verification_failures);
    header(out, "dsproxy_policy_outcomes_total", "counter",
           "Per-domain TLS policy evaluations, by direction (inbound: sender domain at MAIL FROM; outbound: "
           "recipient domain's next hop), policy entry (configured keys; other: the default policy), level and "
           "outcome (passed, refused, would_refuse in mode testing).");
    family_samples(out, "dsproxy_policy_outcomes_total", v.policy_outcomes);
    header(out, "dsproxy_dane_results_total", "counter",
           "Outbound next-hop connections DANE (RFC 7672) applied to, by outcome (authenticated, "
           "unauthenticated-required, failed).");
    family_samples(out, "dsproxy_dane_results_total", v.dane_results);
    header(out, "dsproxy_mta_sts_lookups_total", "counter",
           "MTA-STS policy lookups of recipient domains, by the state that applied (enforce, testing, none, "
           "none-published, fetch-failed, invalid) and source (cache, fetch: a fetch ran, dns: no policy and "
           "no fetch).");
    family_samples(out, "dsproxy_mta_sts_lookups_total", v.sts_lookups);
    header(out, "dsproxy_mta_sts_transactions_total", "counter",
           "Outbound transactions by their log's sts= value (enforce-ok, enforce-failed: deferred, testing-ok, "
           "testing-failed: delivered, ...).");
    family_samples(out, "dsproxy_mta_sts_transactions_total", v.sts_transactions);
    header(out, "dsproxy_messages_relayed_total", "counter", "Messages the upstream accepted at end of data.");
    out += fmt::format("dsproxy_messages_relayed_total {}\n", v.messages);
    header(out, "dsproxy_message_bytes_relayed_total", "counter", "Content bytes of the messages relayed.");
    out += fmt::format("dsproxy_message_bytes_relayed_total {}\n", v.message_bytes);
    header(out, "dsproxy_replies_total", "counter", "SMTP replies sent to clients, by class.");
    family_samples(out, "dsproxy_replies_total", v.replies);
    const auto render_histogram = [&](std::string_view name, std::string_view help, const histogram& h) {
        header(out, name, "histogram", help);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < h.bounds.size(); ++i) {
            cumulative += h.counts[i];
            out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, h.bounds[i], cumulative);
        }
        cumulative += h.counts.back();
        out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, cumulative, name, h.sum,
                           name, h.count);
    };
    render_histogram("dsproxy_upstream_connect_seconds", "Time to connect to an upstream host (TCP, and the PROXY header).",
                     v.connect_latency);
    render_histogram("dsproxy_upstream_transaction_seconds", "From MAIL to the upstream's final reply to the message.",
                     v.transaction_latency);
    return out;
}

}  // namespace dsproxy::engine
