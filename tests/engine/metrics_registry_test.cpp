// metrics_registry_test — the Prometheus exposition: counters move with
// events, label sets stay bounded, histograms are cumulative, label values
// are escaped, and the registries of several I/O threads add up.
#define BOOST_TEST_MODULE metrics_registry
#include <boost/test/unit_test.hpp>

#include "proxy/engine/metrics_registry.hpp"

#include <array>
#include <atomic>
#include <sstream>
#include <thread>
#include <vector>

using namespace dsproxy::engine;
using namespace std::chrono_literals;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (l == line) return true;
    return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(fresh_registry_shows_zero_samples_for_fixed_labels) {
    metrics_registry m;
    const auto text = m.render();
    BOOST_TEST(has_line(text, "# TYPE dsproxy_connections_total counter"));
    BOOST_TEST(has_line(text, "dsproxy_connections_current 0"));
    BOOST_TEST(has_line(text, "dsproxy_replies_total{class=\"2xx\"} 0"));
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"out\",result=\"failed\"} 0"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_connect_seconds_bucket{le=\"+Inf\"} 0"));
}

BOOST_AUTO_TEST_CASE(connections_and_refusals) {
    metrics_registry m;
    m.connection_opened("inbound");
    m.connection_opened("inbound");
    m.connection_opened("submission");
    m.connection_closed();
    m.connection_refused(refusal::over_per_client);
    m.connection_refused(refusal::proxy_header);
    const auto text = m.render();
    BOOST_TEST(has_line(text, "dsproxy_connections_total{listener=\"inbound\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_connections_total{listener=\"submission\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_connections_current 2"));
    BOOST_TEST(has_line(text, "dsproxy_connections_refused_total{reason=\"max_connections_per_client\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_connections_refused_total{reason=\"bad_proxy_header\"} 1"));
    // closing more than were opened never wraps the gauge around
    m.connection_closed();
    m.connection_closed();
    m.connection_closed();
    BOOST_TEST(m.connections_current() == 0u);
}

BOOST_AUTO_TEST_CASE(tls_and_verification) {
    metrics_registry m;
    m.tls_handshake(tls_leg::in, true, "TLSv1.3");
    m.tls_handshake(tls_leg::in, true, "TLSv1.2");
    m.tls_handshake(tls_leg::out, false, "ignored");
    m.verification_failed(tls_leg::out, "validate", "expired");
    m.verification_failed(tls_leg::in, "domain-secure", "not yet valid");
    const auto text = m.render();
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"in\",result=\"ok\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"in\",result=\"ok\",version=\"TLSv1.3\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"out\",result=\"failed\"} 1"));
    BOOST_TEST(text.find("ignored") == std::string::npos);
    BOOST_TEST(has_line(text, "dsproxy_tls_verification_failures_total{leg=\"out\",level=\"validate\",reason=\"expired\"} 1"));
    BOOST_TEST(has_line(
        text, "dsproxy_tls_verification_failures_total{leg=\"in\",level=\"domain-secure\",reason=\"not_yet_valid\"} 1"));
}

BOOST_AUTO_TEST_CASE(policy_outcomes_by_direction_entry_level_and_outcome) {
    metrics_registry m;
    m.policy_evaluated(policy_direction::outbound, "fabrikam.com", "domain-secure", policy_outcome::passed);
    m.policy_evaluated(policy_direction::outbound, "fabrikam.com", "domain-secure", policy_outcome::passed);
    m.policy_evaluated(policy_direction::outbound, ".fabrikam.com", "validate", policy_outcome::refused);
    m.policy_evaluated(policy_direction::inbound, "other", "opportunistic", policy_outcome::passed);
    m.policy_evaluated(policy_direction::inbound, "contoso.com", "domain", policy_outcome::would_refuse);
    const auto text = m.render();
    BOOST_TEST(has_line(text, "# TYPE dsproxy_policy_outcomes_total counter"));
    BOOST_TEST(has_line(text, "dsproxy_policy_outcomes_total{direction=\"outbound\",domain=\"fabrikam.com\","
                              "level=\"domain-secure\",outcome=\"passed\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_policy_outcomes_total{direction=\"outbound\",domain=\".fabrikam.com\","
                              "level=\"validate\",outcome=\"refused\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_policy_outcomes_total{direction=\"inbound\",domain=\"other\","
                              "level=\"opportunistic\",outcome=\"passed\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_policy_outcomes_total{direction=\"inbound\",domain=\"contoso.com\","
                              "level=\"domain\",outcome=\"would_refuse\"} 1"));
}

BOOST_AUTO_TEST_CASE(dane_results_by_outcome) {
    metrics_registry m;
    m.dane_result("authenticated");
    m.dane_result("authenticated");
    m.dane_result("failed");
    metrics_registry other;
    other.dane_result("failed");
    const auto text = m.render();
    BOOST_TEST(has_line(text, "# TYPE dsproxy_dane_results_total counter"));
    BOOST_TEST(has_line(text, "dsproxy_dane_results_total{outcome=\"authenticated\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_dane_results_total{outcome=\"failed\"} 1"));
    const std::array<const metrics_registry*, 2> both{&m, &other};
    BOOST_TEST(has_line(metrics_registry::render(both), "dsproxy_dane_results_total{outcome=\"failed\"} 2"));
}

BOOST_AUTO_TEST_CASE(replies_by_class_ignore_non_replies) {
    metrics_registry m;
    m.reply_sent("250 2.0.0 OK\r\n");
    m.reply_sent("250-first\r\n250 last\r\n");
    m.reply_sent("354 go ahead\r\n");
    m.reply_sent("421 4.3.2 bye\r\n");
    m.reply_sent("554 5.7.1 no\r\n");
    m.reply_sent("");
    m.reply_sent("x");
    const auto text = m.render();
    BOOST_TEST(has_line(text, "dsproxy_replies_total{class=\"2xx\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_replies_total{class=\"3xx\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_replies_total{class=\"4xx\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_replies_total{class=\"5xx\"} 1"));
}

BOOST_AUTO_TEST_CASE(messages_and_latency_histogram_is_cumulative) {
    metrics_registry m;
    m.message_relayed(1000);
    m.message_relayed(24);
    m.upstream_transaction(3ms);
    m.upstream_transaction(200ms);
    m.upstream_transaction(10min);  // beyond the last bound: only +Inf
    const auto text = m.render();
    BOOST_TEST(has_line(text, "dsproxy_messages_relayed_total 2"));
    BOOST_TEST(has_line(text, "dsproxy_message_bytes_relayed_total 1024"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_transaction_seconds_bucket{le=\"0.005\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_transaction_seconds_bucket{le=\"0.1\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_transaction_seconds_bucket{le=\"0.25\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_transaction_seconds_bucket{le=\"300\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_transaction_seconds_bucket{le=\"+Inf\"} 3"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_transaction_seconds_count 3"));
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
    metrics_registry m;
    m.connection_opened("we\"ird\\name\n");
    BOOST_TEST(has_line(m.render(), "dsproxy_connections_total{listener=\"we\\\"ird\\\\name\\n\"} 1"));
}

// One registry per I/O thread; a scrape renders their sum (issue 8).
BOOST_AUTO_TEST_CASE(registries_of_several_threads_add_up) {
    metrics_registry a, b;
    a.connection_opened("inbound");
    b.connection_opened("inbound");
    b.connection_opened("outbound");
    b.connection_closed();
    a.tls_handshake(tls_leg::in, true, "TLSv1.3");
    b.tls_handshake(tls_leg::in, true, "TLSv1.3");
    b.tls_handshake(tls_leg::in, true, "TLSv1.2");
    a.verification_failed(tls_leg::out, "validate", "expired");
    a.policy_evaluated(policy_direction::outbound, "other", "opportunistic", policy_outcome::passed);
    b.policy_evaluated(policy_direction::outbound, "other", "opportunistic", policy_outcome::passed);
    a.message_relayed(1000);
    b.message_relayed(24);
    a.reply_sent("250 ok\r\n");
    b.reply_sent("250 ok\r\n");
    b.reply_sent("421 bye\r\n");
    a.upstream_transaction(3ms);
    b.upstream_transaction(200ms);
    b.upstream_transaction(10min);
    const std::vector<const metrics_registry*> both{&a, &b};
    const auto text = metrics_registry::render(both);
    BOOST_TEST(has_line(text, "dsproxy_connections_total{listener=\"inbound\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_connections_total{listener=\"outbound\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_connections_current 2"));
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"in\",result=\"ok\"} 3"));
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"in\",result=\"ok\",version=\"TLSv1.3\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"in\",result=\"ok\",version=\"TLSv1.2\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"out\",result=\"failed\"} 0"));
    BOOST_TEST(has_line(text, "dsproxy_tls_verification_failures_total{leg=\"out\",level=\"validate\",reason=\"expired\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_policy_outcomes_total{direction=\"outbound\",domain=\"other\","
                              "level=\"opportunistic\",outcome=\"passed\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_messages_relayed_total 2"));
    BOOST_TEST(has_line(text, "dsproxy_message_bytes_relayed_total 1024"));
    BOOST_TEST(has_line(text, "dsproxy_replies_total{class=\"2xx\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_replies_total{class=\"4xx\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_transaction_seconds_bucket{le=\"0.005\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_transaction_seconds_bucket{le=\"0.25\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_transaction_seconds_bucket{le=\"+Inf\"} 3"));
    BOOST_TEST(has_line(text, "dsproxy_upstream_transaction_seconds_count 3"));
    // Each family's HELP/TYPE once, whatever the number of registries.
    std::size_t types = 0;
    for (std::size_t at = 0; (at = text.find("# TYPE dsproxy_connections_total ", at)) != std::string::npos; ++at) ++types;
    BOOST_TEST(types == 1u);
    // A registry alone still renders only itself.
    BOOST_TEST(has_line(a.render(), "dsproxy_connections_total{listener=\"inbound\"} 1"));
}

// Updates from several threads while another scrapes: nothing lost.
BOOST_AUTO_TEST_CASE(updates_and_scrapes_from_several_threads) {
    metrics_registry a, b;
    const std::vector<const metrics_registry*> both{&a, &b};
    std::atomic<bool> done{false};
    std::atomic<long> scrapes{0}, bad{0};  // Boost.Test assertions only on the main thread
    std::thread scraper([&] {
        while (!done) {
            if (metrics_registry::render(both).find("dsproxy_connections_current ") == std::string::npos) ++bad;
            ++scrapes;
        }
    });
    auto work = [](metrics_registry& m) {
        for (int i = 0; i < 20000; ++i) {
            m.connection_opened(i % 2 ? "inbound" : "outbound");
            m.reply_sent("250 ok\r\n");
            m.connection_closed();
        }
    };
    std::thread ta(work, std::ref(a)), tb(work, std::ref(b));
    ta.join();
    tb.join();
    done = true;
    scraper.join();
    BOOST_TEST(bad.load() == 0);
    BOOST_TEST(scrapes.load() > 0);
    const auto text = metrics_registry::render(both);
    BOOST_TEST(has_line(text, "dsproxy_connections_total{listener=\"inbound\"} 20000"));
    BOOST_TEST(has_line(text, "dsproxy_connections_total{listener=\"outbound\"} 20000"));
    BOOST_TEST(has_line(text, "dsproxy_replies_total{class=\"2xx\"} 40000"));
    BOOST_TEST(has_line(text, "dsproxy_connections_current 0"));
}

BOOST_AUTO_TEST_CASE(certificate_expiry_gauge_has_one_sample_per_certificate) {
    const std::vector<certificate_sample> certs{
        {"mail.contoso.com", "A9993E364706816ABA3E25717850C26C9CD0D89D", "server", 1798761600},
        {"CN=odd \"name\"\\x", "84983E441C3BD26EBAAE4AA1F95129E5E54670F1", "client", 1767225600},
    };
    const auto text = metrics_registry::render_certificates(certs);
    BOOST_TEST(has_line(text, "# TYPE dsproxy_certificate_expiry_timestamp_seconds gauge"));
    BOOST_TEST(has_line(text, "dsproxy_certificate_expiry_timestamp_seconds{name=\"mail.contoso.com\","
                              "thumbprint=\"A9993E364706816ABA3E25717850C26C9CD0D89D\",use=\"server\"} 1798761600"),
               text);
    // A subject used as the name is escaped like any label value.
    BOOST_TEST(has_line(text, "dsproxy_certificate_expiry_timestamp_seconds{name=\"CN=odd \\\"name\\\"\\\\x\","
                              "thumbprint=\"84983E441C3BD26EBAAE4AA1F95129E5E54670F1\",use=\"client\"} 1767225600"),
               text);
    BOOST_TEST(metrics_registry::render_certificates({}).find("dsproxy_certificate_expiry_timestamp_seconds{") ==
               std::string::npos);
}
