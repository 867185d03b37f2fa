// Tests for server_session: greeting, EHLO, pipelining, STARTTLS injection,
// relay control, end-to-end acknowledgement.
#include "server_harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::smtp;
using dsproxy::smtp::test::harness;
using dsproxy::smtp::test::test_options;
namespace a = dsproxy::smtp::actions;

namespace {
bool has(const std::string& text, std::string_view needle) { return text.find(needle) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_SUITE(server_session_tests)

BOOST_AUTO_TEST_CASE(banner_and_ehlo_extensions) {
    server_session s(test_options(), {});
    auto out = s.start();
    BOOST_TEST_REQUIRE(out.size() == 1u);
    BOOST_TEST(std::get<a::send_reply>(out[0]).text == "220 mx.contoso.com ESMTP dsproxy\r\n");
    harness h;
    BOOST_TEST(h.feed("EHLO client.example\r\n") ==
               "250-mx.contoso.com\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
               "250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n250 STARTTLS\r\n");
    BOOST_TEST(h.feed("HELO client.example\r\n") == "250 mx.contoso.com\r\n");
    auto o = test_options();
    o.starttls_offered = false;
    harness plain(o);
    BOOST_TEST(!has(plain.feed("EHLO c\r\n"), "STARTTLS"));
    // Issue 15 item 4: inbound, DSN only when the upstream offered it.
    o.advertise_dsn = false;
    harness no_dsn(o);
    BOOST_TEST(no_dsn.feed("EHLO c\r\n") ==
               "250-mx.contoso.com\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
               "250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n");
}

BOOST_AUTO_TEST_CASE(early_talker_gets_554_and_close) {
    server_session s(test_options(), {});
    auto out = s.on_bytes("EHLO eager\r\n");
    BOOST_TEST(has(std::get<a::send_reply>(out.at(1)).text, "554 5.5.1"));
    BOOST_TEST(std::holds_alternative<a::close_connection>(out.back()));
    BOOST_TEST(s.closed());
}

BOOST_AUTO_TEST_CASE(pipelined_transaction_end_to_end) {
    harness h;
    const std::string r = h.feed(
        "EHLO client.example\r\nMAIL FROM:<a@fabrikam.com> SIZE=100\r\nRCPT TO:<u@contoso.com>\r\n"
        "RCPT TO:<v@contoso.com>\r\nDATA\r\n");
    BOOST_TEST(has(r, "250 2.1.0 Ok"));
    BOOST_TEST(!h.s.wants_input());
    BOOST_TEST_REQUIRE(h.last<a::upstream_mail>() != nullptr);
    BOOST_TEST(*h.last<a::upstream_mail>()->params.size == 100u);
    BOOST_TEST(h.upstream(upstream_stage::mail, 250, "2.1.0 Ok").empty());  // the RCPT is still out
    BOOST_TEST(h.last<a::upstream_rcpt>()->forward_path.to_wire() == "<u@contoso.com>");
    BOOST_TEST(h.upstream(upstream_stage::rcpt, 250, "2.1.5 Ok u") == "250 2.1.5 Ok u\r\n");
    BOOST_TEST(h.upstream(upstream_stage::rcpt, 550, "5.1.1 No such user v") == "550 5.1.1 No such user v\r\n");
    BOOST_TEST(h.count<a::upstream_data>() == 1u);
    BOOST_TEST(h.upstream(upstream_stage::data, 354, "go ahead") == "354 End data with <CR><LF>.<CR><LF>\r\n");
    BOOST_TEST(h.feed("Subject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n").empty());  // QUIT waits for the final reply
    BOOST_TEST(h.count<a::upstream_end_of_data>() == 1u);
    const auto relayed = h.relayed();
    BOOST_TEST(relayed.rfind("Received: from client.example", 0) == 0u);
    BOOST_TEST(has(relayed, "for <u@contoso.com>;"));
    BOOST_TEST(has(relayed, "\r\nSubject: hi\r\n\r\n..dot\r\n"));
    BOOST_TEST(!has(relayed, "\r\n.\r\n"));
    BOOST_TEST(h.upstream(upstream_stage::end_of_data, 250, "2.0.0 Ok: queued as X") ==
               "250 2.0.0 Ok: queued as X\r\n221 2.0.0 Bye\r\n");
    BOOST_TEST(h.s.closed());
}

BOOST_AUTO_TEST_CASE(final_reply_is_the_upstreams_own) {
    harness h;
    h.open_transaction();
    h.feed("DATA\r\n");
    h.upstream(upstream_stage::data, 354, "go");
    h.feed("x\r\n.\r\n");
    BOOST_TEST(h.upstream(upstream_stage::end_of_data, 451, "4.3.0 try later") == "451 4.3.0 try later\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<>\r\n") == "250 2.1.0 Ok\r\n");  // a new transaction may start
}

BOOST_AUTO_TEST_CASE(upstream_failure_at_every_stage_is_a_4xx) {
    {  // connecting / MAIL
        harness h;
        h.feed("EHLO c\r\nMAIL FROM:<a@fabrikam.com>\r\nRCPT TO:<u@contoso.com>\r\nRCPT TO:<v@contoso.com>\r\n");
        h.absorb(h.s.on_upstream_failed(upstream_stage::mail, "connection refused"));
        BOOST_TEST(h.take() == "451 4.4.1 Upstream server not available, try again later\r\n"
                               "451 4.4.1 Upstream server not available, try again later\r\n");
        BOOST_TEST(has(h.feed("DATA\r\n"), "451 4.4.1"));
    }
    {  // during DATA content: the client still gets a 4xx after its dot, never a 250
        harness h;
        h.open_transaction();
        h.feed("DATA\r\n");
        h.upstream(upstream_stage::data, 354, "go");
        h.feed("part one\r\n");
        h.absorb(h.s.on_upstream_failed(upstream_stage::end_of_data, "reset by peer"));
        BOOST_TEST(h.take().empty());
        BOOST_TEST(h.feed("part two\r\n.\r\n") == "451 4.4.2 Upstream connection lost, try again later\r\n");
        BOOST_TEST(h.count<a::upstream_end_of_data>() == 0u);
    }
    {  // waiting for the final reply
        harness h;
        h.open_transaction();
        h.feed("DATA\r\n");
        h.upstream(upstream_stage::data, 354, "go");
        h.feed(".\r\n");
        h.absorb(h.s.on_upstream_failed(upstream_stage::end_of_data, "timeout"));
        BOOST_TEST(h.take() == "451 4.4.2 Upstream connection lost, try again later\r\n");
    }
}

BOOST_AUTO_TEST_CASE(upstream_refusing_mail_refuses_the_rcpts) {
    harness h;
    h.feed("EHLO c\r\nMAIL FROM:<a@fabrikam.com>\r\nRCPT TO:<u@contoso.com>\r\n");
    BOOST_TEST(h.upstream(upstream_stage::mail, 550, "5.7.1 sender blocked") == "550 5.7.1 sender blocked\r\n");
    BOOST_TEST(h.feed("RCPT TO:<v@contoso.com>\r\n") == "550 5.7.1 sender blocked\r\n");
    BOOST_TEST(h.count<a::upstream_rcpt>() == 0u);
    BOOST_TEST(h.feed("RSET\r\n") == "250 2.0.0 Ok\r\n");
    BOOST_TEST(h.count<a::upstream_abort>() == 0u);  // nothing open upstream
}

BOOST_AUTO_TEST_CASE(client_disconnect_mid_message_aborts_upstream) {
    harness h;
    h.open_transaction();
    h.feed("DATA\r\n");
    h.upstream(upstream_stage::data, 354, "go");
    h.feed("half a message\r\n");
    h.absorb(h.s.on_client_closed());
    BOOST_TEST(h.count<a::upstream_abort>() == 1u);
    BOOST_TEST(h.count<a::upstream_end_of_data>() == 0u);
    BOOST_TEST(h.s.closed());
}

BOOST_AUTO_TEST_CASE(timeout_mid_transaction) {
    harness h;
    h.open_transaction();
    h.absorb(h.s.on_timeout());
    BOOST_TEST(h.take() == "421 4.4.2 mx.contoso.com Error: timeout exceeded\r\n");
    BOOST_TEST(h.count<a::upstream_abort>() == 1u);
    BOOST_TEST(h.s.closed());
}

BOOST_AUTO_TEST_CASE(starttls_injection_is_discarded) {
    harness h;
    h.feed("EHLO c\r\n");
    const auto r = h.feed("STARTTLS\r\nMAIL FROM:<evil@attacker.example>\r\nRCPT TO:<u@contoso.com>\r\n");
    BOOST_TEST(r == "220 2.0.0 Ready to start TLS\r\n");
    BOOST_TEST(h.count<a::start_tls>() == 1u);
    BOOST_TEST(!h.s.wants_input());
    BOOST_TEST(h.feed("NOOP\r\n").empty());  // plaintext during the handshake: dropped
    h.absorb(h.s.on_tls_established({"TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, false, false}));
    BOOST_TEST(h.take().empty());
    // The injected MAIL never ran, and the pre-TLS EHLO no longer counts.
    BOOST_TEST(h.feed("MAIL FROM:<a@fabrikam.com>\r\n") == "503 5.5.1 Error: send HELO/EHLO first\r\n");
    const auto ehlo = h.feed("EHLO c\r\n");
    BOOST_TEST(!has(ehlo, "STARTTLS"));
    BOOST_TEST(h.feed("STARTTLS\r\n") == "554 5.5.1 Error: TLS already active\r\n");
    BOOST_TEST(h.count<a::upstream_mail>() == 0u);
}

BOOST_AUTO_TEST_CASE(starttls_refusals) {
    harness h;
    h.open_transaction();
    BOOST_TEST(h.feed("STARTTLS\r\n") == "503 5.5.1 Error: MAIL transaction in progress\r\n");
    auto o = test_options();
    o.starttls_offered = false;
    harness plain(o);
    plain.feed("EHLO c\r\n");
    BOOST_TEST(plain.feed("STARTTLS\r\n") == "502 5.5.1 Error: command not implemented\r\n");
    BOOST_TEST(plain.feed("STARTTLS now\r\n") == "501 5.5.4 Syntax: STARTTLS takes no arguments\r\n");
    harness failing;
    failing.feed("STARTTLS\r\n");
    failing.absorb(failing.s.on_tls_failed());
    BOOST_TEST(failing.s.closed());
}

BOOST_AUTO_TEST_CASE(http_verbs_close_the_session) {
    for (const char* req : {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST /x HTTP/1.0\r\n", "CONNECT a:25 HTTP/1.1\r\n"}) {
        harness h;
        const auto r = h.feed(req);
        BOOST_TEST(r == "221 2.7.0 Error: this is an SMTP server, not an HTTP one\r\n");
        BOOST_TEST(h.s.closed());
    }
}

BOOST_AUTO_TEST_CASE(relay_control_and_address_tricks) {
    harness h;
    h.feed("EHLO c\r\nMAIL FROM:<a@fabrikam.com>\r\n");
    const std::string denied = "550 5.7.1 Error: relay access denied\r\n";
    const std::string routing = "550 5.7.1 Error: relay access denied (sender-specified routing)\r\n";
    BOOST_TEST(h.feed("RCPT TO:<u@fabrikam.com>\r\n") == denied);
    BOOST_TEST(h.feed("RCPT TO:<u@sub.contoso.com>\r\n") == denied);
    BOOST_TEST(h.feed("RCPT TO:<u@[192.0.2.1]>\r\n") == denied);
    BOOST_TEST(h.feed("RCPT TO:<u%fabrikam.com@contoso.com>\r\n") == routing);
    BOOST_TEST(h.feed("RCPT TO:<fabrikam.com!u@contoso.com>\r\n") == routing);
    BOOST_TEST(h.feed("RCPT TO:<\"u@fabrikam.com\"@contoso.com>\r\n") == routing);
    BOOST_TEST(h.feed("RCPT TO:<@contoso.com:u@fabrikam.com>\r\n") == denied);  // route stripped, last domain counts
    BOOST_TEST(h.count<a::upstream_mail>() == 0u);
    // Accepted: case and a trailing-dot-free canonical form; source route stripped.
    BOOST_TEST(h.feed("RCPT TO:<@relay.example:u@CONTOSO.com>\r\n").empty());
    h.upstream(upstream_stage::mail, 250, "2.1.0 Ok");
    BOOST_TEST(h.last<a::upstream_rcpt>()->forward_path.to_wire() == "<u@CONTOSO.com>");
}

BOOST_AUTO_TEST_CASE(domains_that_are_accepted_only_after_idn_mapping_are_refused) {
    // docs/design.md §10: the domain checked must be the domain the backend reads. With
    // UTS #46 mapping these are contoso.com, but they would be passed on as
    // written.
    harness h;
    h.feed("EHLO c\r\nMAIL FROM:<a@fabrikam.com> SMTPUTF8\r\n");
    const std::string bad = "501 5.1.3 Error: bad recipient domain\r\n";
    BOOST_TEST(h.feed("RCPT TO:<u@\xef\xbd\x83ontoso.com>\r\n") == bad);  // full-width c
    BOOST_TEST(h.feed("RCPT TO:<u@contoso\xe3\x80\x82" "com>\r\n") == bad);  // ideographic full stop
    BOOST_TEST(h.count<a::upstream_mail>() == 0u);
    auto p = dsproxy::smtp::test::contoso_policy();
    p.accepts_domain = [](std::string_view d) { return d == "xn--bcher-kva.de"; };
    harness idn(test_options(), p);
    idn.feed("EHLO c\r\nMAIL FROM:<a@fabrikam.com> SMTPUTF8\r\n");
    BOOST_TEST(idn.feed("RCPT TO:<u@B\xc3\x9c" "CHER.de>\r\n") == bad);  // upper-case Ü
    BOOST_TEST(idn.feed("RCPT TO:<u@b\xc3\xbc" "cher.de>\r\n").empty());  // a real U-label: to the upstream
    BOOST_TEST(idn.count<a::upstream_mail>() == 1u);
}

BOOST_AUTO_TEST_CASE(timeout_during_the_handshake_closes_without_a_plaintext_reply) {
    // Regression (fuzz/corpus/server_session/crash-timeout-during-handshake).
    harness h;
    h.feed("EHLO c\r\n");
    BOOST_TEST(h.feed("STARTTLS\r\n") == "220 2.0.0 Ready to start TLS\r\n");
    h.absorb(h.s.on_timeout());
    BOOST_TEST(h.take().empty());
    BOOST_TEST(h.s.closed());
}

BOOST_AUTO_TEST_CASE(refused_commands_are_logged_with_the_count) {
    harness h;
    h.feed("EHLO c\r\n");
    BOOST_TEST(h.feed("BOGUS\r\n") == "500 5.5.2 Error: command not recognized\r\n");
    const auto* n = h.last<a::log_note>();
    BOOST_TEST_REQUIRE(n != nullptr);
    BOOST_TEST(n->text == "reason=refused command 1/20: 500 5.5.2 Error: command not recognized");
}

BOOST_AUTO_TEST_CASE(undeclared_8bit_content_is_relayed_and_logged_once) {
    harness h;
    h.open_transaction();
    h.feed("DATA\r\n");
    h.upstream(upstream_stage::data, 354, "go");
    const auto notes_before = h.count<a::log_note>();
    h.feed("Subject: caf\xc3\xa9\r\n\r\n\xe9t\xe9\r\n");
    h.feed("\xff\r\n.\r\n");
    BOOST_TEST(h.count<a::log_note>() == notes_before + 1);
    BOOST_TEST(h.last<a::log_note>()->text == "reason=8-bit message data without BODY=8BITMIME, relayed unchanged");
    BOOST_TEST(h.relayed().find("\xe9t\xe9\r\n\xff\r\n") != std::string::npos);
    BOOST_TEST(h.count<a::upstream_end_of_data>() == 1u);
    harness declared;
    declared.open_transaction(" BODY=8BITMIME");
    declared.feed("DATA\r\n");
    declared.upstream(upstream_stage::data, 354, "go");
    const auto before = declared.count<a::log_note>();
    declared.feed("caf\xc3\xa9\r\n.\r\n");
    BOOST_TEST(declared.count<a::log_note>() == before);
}

BOOST_AUTO_TEST_CASE(default_policy_is_not_an_open_relay) {
    harness h(test_options(), session_policy{});
    h.feed("EHLO c\r\nMAIL FROM:<a@fabrikam.com>\r\n");
    BOOST_TEST(h.feed("RCPT TO:<u@contoso.com>\r\n") == "550 5.7.1 Error: relay access denied\r\n");
}

BOOST_AUTO_TEST_CASE(sender_policy_refusal_and_domain_secured_mark) {
    auto p = dsproxy::smtp::test::contoso_policy();
    p.check_sender = [](const path& rp, const std::optional<tls_facts>& tls) {
        sender_verdict v;
        if (rp.box.domain == "secure.example" && !tls) v.refusal = make_reply(530, "5.7.1 STARTTLS required");
        v.domain_secured = tls.has_value();
        return v;
    };
    harness h(test_options(), p);
    h.feed("EHLO c\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<x@secure.example>\r\n") == "530 5.7.1 STARTTLS required\r\n");
    h.feed("STARTTLS\r\n");
    h.absorb(h.s.on_tls_established({"TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, true, true}));
    h.open_transaction();
    h.feed("DATA\r\n");
    h.upstream(upstream_stage::data, 354, "go");
    BOOST_TEST(has(h.relayed(), "client certificate verified; domain-secured"));
    BOOST_TEST(has(h.relayed(), "with ESMTPS id S1"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(outbound_mail_refusals)

// Outbound: MAIL is opened for the first RCPT, whose domain picks the route;
// a refusal there (routing, TLS policy) answers that RCPT only, and the next
// RCPT opens the transaction again. Inbound keeps the refusal.
BOOST_AUTO_TEST_CASE(mail_refusal_answers_one_recipient_when_per_recipient) {
    auto o = test_options();
    o.mail_refusal_per_recipient = true;
    harness h(o);
    h.feed("EHLO c\r\nMAIL FROM:<a@fabrikam.com>\r\nRCPT TO:<u@contoso.com>\r\n");
    BOOST_TEST_REQUIRE(h.last<a::upstream_mail>() != nullptr);
    BOOST_TEST(h.last<a::upstream_mail>()->first_recipient.to_wire() == "<u@contoso.com>");
    BOOST_TEST(h.upstream(upstream_stage::mail, 550, "5.7.1 TLS policy not met") == "550 5.7.1 TLS policy not met\r\n");
    h.feed("RCPT TO:<v@contoso.com>\r\n");
    BOOST_TEST(h.count<a::upstream_mail>() == 2u);  // tried again for the next recipient
    BOOST_TEST(h.last<a::upstream_mail>()->first_recipient.to_wire() == "<v@contoso.com>");
    BOOST_TEST(h.upstream(upstream_stage::mail, 250, "2.1.0 Ok").empty());
    BOOST_TEST(h.upstream(upstream_stage::rcpt, 250, "2.1.5 Ok") == "250 2.1.5 Ok\r\n");
}

BOOST_AUTO_TEST_CASE(upstream_failure_answers_one_recipient_when_per_recipient) {
    auto o = test_options();
    o.mail_refusal_per_recipient = true;
    harness h(o);
    h.feed("EHLO c\r\nMAIL FROM:<a@fabrikam.com>\r\nRCPT TO:<u@contoso.com>\r\n");
    BOOST_TEST(h.s.on_upstream_failed(upstream_stage::mail, "no route").size() > 0u);
    h.feed("RCPT TO:<v@contoso.com>\r\n");
    BOOST_TEST(h.count<a::upstream_mail>() == 2u);
}

BOOST_AUTO_TEST_CASE(mail_refusal_holds_for_the_transaction_by_default) {
    harness h;
    h.feed("EHLO c\r\nMAIL FROM:<a@fabrikam.com>\r\nRCPT TO:<u@contoso.com>\r\n");
    BOOST_TEST(h.upstream(upstream_stage::mail, 550, "5.1.8 Bad sender") == "550 5.1.8 Bad sender\r\n");
    BOOST_TEST(h.feed("RCPT TO:<v@contoso.com>\r\n") == "550 5.1.8 Bad sender\r\n");
    BOOST_TEST(h.count<a::upstream_mail>() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
