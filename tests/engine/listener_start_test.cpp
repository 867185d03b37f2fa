// listener_start_test — docs/design.md §4.1, issue 19 item 7: a TLS listener
// that no certificate serves does not start, unless `without_certificate:
// plain` says plain text is acceptable; the sentence names the listener, the
// name it has no certificate for, why, and the two ways out.
#include "proxy/engine/listener_start.hpp"

#include <boost/test/unit_test.hpp>

namespace {

using namespace dsproxy;
using engine::decide_listener_start;
using engine::listener_start;

config::listener listener(config::listener_tls tls, config::listener_without_certificate without =
                                                        config::listener_without_certificate::refuse) {
    config::listener l;
    l.name = "edge";
    l.fqdn = "mail.contoso.com";
    l.tls = tls;
    l.without_certificate = without;
    return l;
}

const std::string why = "no certificate in the store has the name mail.contoso.com";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(listener_start_decision)

BOOST_AUTO_TEST_CASE(a_certificate_starts_the_listener_as_configured) {
    for (const auto without : {config::listener_without_certificate::refuse, config::listener_without_certificate::plain})
        for (const auto tls : {config::listener_tls::starttls, config::listener_tls::implicit}) {
            const auto d = decide_listener_start(listener(tls, without), std::nullopt);
            BOOST_TEST((d.action == listener_start::as_configured));
            BOOST_TEST(d.message.empty());
        }
}

BOOST_AUTO_TEST_CASE(starttls_without_a_certificate_is_refused_by_default) {
    const auto d = decide_listener_start(listener(config::listener_tls::starttls), why);
    BOOST_TEST((d.action == listener_start::refuse));
    BOOST_TEST(d.message.starts_with("listener edge: no usable certificate for mail.contoso.com (" + why + ")"),
               d.message);
    BOOST_TEST(has(d.message, "does not start without one"), d.message);
    BOOST_TEST(has(d.message, "dsproxy cert import"), d.message);
    BOOST_TEST(has(d.message, "without_certificate: plain"), d.message);
    BOOST_TEST(d.message.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(plain_by_choice_runs_without_starttls) {
    const auto d = decide_listener_start(
        listener(config::listener_tls::starttls, config::listener_without_certificate::plain), why);
    BOOST_TEST((d.action == listener_start::without_starttls));
    BOOST_TEST(d.message.starts_with("listener edge: no usable certificate for mail.contoso.com"), d.message);
    BOOST_TEST(has(d.message, "STARTTLS is not offered"), d.message);
    BOOST_TEST(has(d.message, "(`without_certificate: plain`)"), d.message);
}

BOOST_AUTO_TEST_CASE(implicit_tls_cannot_be_plain) {
    // TLS from the first byte without a certificate would close every connection.
    for (const auto without : {config::listener_without_certificate::refuse, config::listener_without_certificate::plain}) {
        const auto d = decide_listener_start(listener(config::listener_tls::implicit, without), why);
        BOOST_TEST((d.action == listener_start::refuse));
        BOOST_TEST(has(d.message, "`tls: implicit` listener cannot run without one"), d.message);
    }
}

BOOST_AUTO_TEST_CASE(a_listener_without_tls_needs_no_certificate) {
    const auto d = decide_listener_start(listener(config::listener_tls::none), why);
    BOOST_TEST((d.action == listener_start::as_configured));
    BOOST_TEST(d.message.empty());
}

BOOST_AUTO_TEST_SUITE_END()
