// metrics_registry_test — the Prometheus exposition: counters move with
// events, label sets stay bounded, histograms are cumulative, label values
// are escaped.
#define BOOST_TEST_MODULE metrics_registry
#include <boost/test/unit_test.hpp>

#include "proxy/engine/metrics_registry.hpp"

#include <sstream>

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
    m.verification_failed(tls_leg::out, "expired");
    m.verification_failed(tls_leg::in, "not yet valid");
    const auto text = m.render();
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"in\",result=\"ok\"} 2"));
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"in\",result=\"ok\",version=\"TLSv1.3\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_tls_handshakes_total{leg=\"out\",result=\"failed\"} 1"));
    BOOST_TEST(text.find("ignored") == std::string::npos);
    BOOST_TEST(has_line(text, "dsproxy_tls_verification_failures_total{leg=\"out\",reason=\"expired\"} 1"));
    BOOST_TEST(has_line(text, "dsproxy_tls_verification_failures_total{leg=\"in\",reason=\"not_yet_valid\"} 1"));
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
