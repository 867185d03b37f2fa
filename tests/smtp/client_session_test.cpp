// Tests for client_session: setup with STARTTLS and XCLIENT, STARTTLS
// injection from the upstream, parameter filtering, DATA, BDAT and its
// conversion to DATA, aborts and failures.
#include "proxy/smtp/client_session.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::smtp;
namespace ca = dsproxy::smtp::client_actions;

namespace {

const std::string ehlo_full =
    "250-backend.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
    "250-CHUNKING\r\n250-DSN\r\n250-STARTTLS\r\n250 XCLIENT ADDR NAME HELO PROTO\r\n";
const std::string ehlo_plain = "250-backend.example\r\n250 PIPELINING\r\n";

struct client_harness {
    client_session c;
    std::string sent;
    std::vector<client_action> actions;
    explicit client_harness(client_options o) : c(std::move(o)) {}
    void absorb(std::vector<client_action> out) {
        for (auto& a : out) {
            if (auto* s = std::get_if<ca::send>(&a)) sent += s->bytes;
            actions.push_back(std::move(a));
        }
    }
    std::string feed(std::string_view b) {
        absorb(c.on_bytes(b));
        return take_sent();
    }
    std::string take_sent() {
        std::string r;
        r.swap(sent);
        return r;
    }
    template <typename T>
    std::size_t count() const {
        std::size_t n = 0;
        for (const auto& a : actions) n += std::holds_alternative<T>(a) ? 1 : 0;
        return n;
    }
    template <typename T>
    const T* last() const {
        for (auto it = actions.rbegin(); it != actions.rend(); ++it)
            if (auto* p = std::get_if<T>(&*it)) return p;
        return nullptr;
    }
};

client_options opts(upstream_tls t = upstream_tls::opportunistic) {
    client_options o;
    o.helo_name = "mx.contoso.com";
    o.starttls = t;
    return o;
}

path addr(std::string_view text) { return parse_path(text, path_kind::forward).value; }

// Brings a harness to idle over a plain connection with the given EHLO reply.
void plain_setup(client_harness& h, const std::string& ehlo) {
    BOOST_TEST(h.feed("220 backend.example ESMTP\r\n") == "EHLO mx.contoso.com\r\n");
    h.feed(ehlo);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_session_tests)

BOOST_AUTO_TEST_CASE(setup_with_starttls_and_xclient_then_mail_queued_meanwhile) {
    auto o = opts();
    o.xclient = xclient_facts{"192.0.2.7", "client.example", "helo name", "ESMTP"};
    client_harness h(o);
    mail_parameters mp;
    mp.size = 100;
    h.absorb(h.c.mail(parse_path("<a@fabrikam.com>", path_kind::reverse).value, mp));
    BOOST_TEST(h.take_sent().empty());  // queued until the connection is set up
    BOOST_TEST(h.feed("220 backend.example ESMTP\r\n") == "EHLO mx.contoso.com\r\n");
    BOOST_TEST(h.feed(ehlo_full) == "STARTTLS\r\n");
    BOOST_TEST(h.feed("220 2.0.0 go ahead\r\n").empty());
    BOOST_TEST(h.count<ca::start_tls>() == 1u);
    h.absorb(h.c.on_tls_established());
    BOOST_TEST(h.take_sent() == "EHLO mx.contoso.com\r\n");
    BOOST_TEST(h.feed(ehlo_full) == "XCLIENT ADDR=192.0.2.7 NAME=client.example HELO=helo+20name PROTO=ESMTP\r\n");
    BOOST_TEST(h.feed("220 backend.example ESMTP\r\n") == "EHLO mx.contoso.com\r\n");
    BOOST_TEST(h.feed(ehlo_full) == "MAIL FROM:<a@fabrikam.com> SIZE=100\r\n");
    BOOST_TEST(h.c.tls_active());
    h.feed("250 2.1.0 Ok\r\n");
    BOOST_TEST(h.last<ca::result>()->value.code == 250);
}

BOOST_AUTO_TEST_CASE(plaintext_staged_after_starttls_220_is_an_attack) {
    client_harness h(opts());
    h.absorb(h.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    h.feed("220 backend.example ESMTP\r\n");
    h.feed(ehlo_full);
    // The 220 and a forged EHLO reply in one segment: the forged reply must
    // never be read as if it came through TLS.
    h.feed("220 2.0.0 go ahead\r\n250-evil\r\n250 AUTH PLAIN\r\n");
    BOOST_TEST(h.count<ca::start_tls>() == 0u);
    BOOST_TEST(h.count<ca::close_connection>() == 1u);
    BOOST_TEST_REQUIRE(h.last<ca::failure>() != nullptr);
    BOOST_TEST((h.last<ca::failure>()->stage == upstream_stage::mail));
    // Bytes that arrive separately during the handshake: the same.
    client_harness g(opts());
    g.feed("220 b\r\n");
    g.feed(ehlo_full);
    g.feed("220 go\r\n");
    BOOST_TEST(g.count<ca::start_tls>() == 1u);
    g.feed("250 forged\r\n");
    BOOST_TEST(g.count<ca::close_connection>() == 1u);
}

BOOST_AUTO_TEST_CASE(quit_during_the_handshake_closes_without_plaintext) {
    // Regression (fuzz/corpus/client_session/crash-quit-during-handshake):
    // QUIT was written in plain text between the 220 to STARTTLS and the
    // handshake.
    client_harness h(opts());
    h.feed("220 backend.example ESMTP\r\n");
    h.feed(ehlo_full);
    h.feed("220 2.0.0 go ahead\r\n");
    BOOST_TEST_REQUIRE((h.c.state() == client_state::tls_handshake));
    h.take_sent();
    h.absorb(h.c.quit());
    BOOST_TEST(h.take_sent().empty());
    BOOST_TEST((h.c.state() == client_state::closed));
    BOOST_TEST(h.count<ca::close_connection>() == 1u);
    h.absorb(h.c.on_tls_established());
    BOOST_TEST(h.take_sent().empty());
    // Regression (crash-quit-behind-starttls): QUIT pipelined behind an unanswered STARTTLS.
    client_harness q(opts());
    q.feed("220 backend.example ESMTP\r\n");
    BOOST_TEST(q.feed(ehlo_full) == "STARTTLS\r\n");
    q.absorb(q.c.quit());
    BOOST_TEST(q.take_sent().empty());
    BOOST_TEST((q.c.state() == client_state::closed));
    BOOST_TEST(q.feed("220 2.0.0 go ahead\r\n").empty());
    BOOST_TEST(q.count<ca::start_tls>() == 0u);
}

BOOST_AUTO_TEST_CASE(second_data_behind_an_unanswered_one_fails_instead_of_being_sent) {
    // Regression (fuzz/corpus/client_session/crash-second-data-outstanding):
    // the upstream would have read the second DATA as message content.
    client_harness h(opts(upstream_tls::none));
    h.absorb(h.c.mail(addr("<a@fabrikam.com>"), {}));
    h.feed("220 backend.example ESMTP\r\n");
    h.feed(ehlo_plain);
    h.feed("250 2.1.0 Ok\r\n");
    h.take_sent();
    h.absorb(h.c.begin_data(data_mode::data));
    BOOST_TEST(h.take_sent() == "DATA\r\n");
    h.absorb(h.c.begin_data(data_mode::data));
    BOOST_TEST(h.take_sent().empty());
    BOOST_TEST((h.c.state() == client_state::closed));
    BOOST_TEST_REQUIRE(h.last<ca::failure>() != nullptr);
    BOOST_TEST(h.last<ca::failure>()->reason == "DATA requested while one is unanswered");
}

BOOST_AUTO_TEST_CASE(required_tls_not_offered_fails) {
    client_harness h(opts(upstream_tls::required));
    h.absorb(h.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    plain_setup(h, ehlo_plain);
    BOOST_TEST(h.last<ca::failure>()->reason == "upstream does not offer STARTTLS");
    BOOST_TEST((h.c.state() == client_state::closed));
}

// Issue 14: every failure carries its kind; decisions are taken on it, the
// text is for the log.
BOOST_AUTO_TEST_CASE(failures_carry_their_kind) {
    const auto kind_after = [](upstream_tls t, std::vector<std::string> replies, bool timeout = false) {
        client_harness h(opts(t));
        h.absorb(h.c.mail(parse_path("<>", path_kind::reverse).value, {}));
        for (const auto& r : replies) h.feed(r);
        if (timeout) h.absorb(h.c.on_timeout());
        BOOST_TEST_REQUIRE(h.last<ca::failure>() != nullptr);
        BOOST_TEST(h.c.failure().has_value());
        BOOST_TEST((h.c.failure()->kind == h.last<ca::failure>()->kind));
        return h.last<ca::failure>()->kind;
    };
    BOOST_TEST((kind_after(upstream_tls::required, {"220 x\r\n", ehlo_plain}) == failure_kind::starttls_missing));
    BOOST_TEST((kind_after(upstream_tls::required, {"220 x\r\n", ehlo_full, "454 4.7.0 no\r\n"}) ==
                failure_kind::starttls_refused));
    BOOST_TEST((kind_after(upstream_tls::opportunistic, {"554 go away\r\n"}) == failure_kind::greeting));
    BOOST_TEST((kind_after(upstream_tls::opportunistic, {"220 x\r\n", "hello\r\n"}) ==
                failure_kind::protocol));
    // CVE-2011-0411 from the upstream: STARTTLS not really granted.
    BOOST_TEST((kind_after(upstream_tls::required, {"220 x\r\n", ehlo_full, "220 go\r\n250 injected\r\n"}) ==
                failure_kind::starttls_refused));
    BOOST_TEST((kind_after(upstream_tls::opportunistic, {"220 x\r\n"}, true) == failure_kind::timeout));
    client_harness closed(opts());
    closed.absorb(closed.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    closed.absorb(closed.c.on_closed());
    BOOST_TEST((closed.last<ca::failure>()->kind == failure_kind::closed));
    // A handshake or certificate failure is the engine's to name.
    client_harness tls(opts(upstream_tls::required));
    tls.absorb(tls.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    tls.feed("220 x\r\n");
    tls.feed(ehlo_full);
    tls.feed("220 go\r\n");
    tls.absorb(tls.c.on_tls_failed(failure_kind::certificate, "names"));
    BOOST_TEST((tls.last<ca::failure>()->kind == failure_kind::certificate));
    BOOST_TEST(tls.last<ca::failure>()->reason == "TLS with the upstream failed: names");
}

BOOST_AUTO_TEST_CASE(ehlo_refused_falls_back_to_helo) {
    client_harness h(opts());
    BOOST_TEST(h.feed("220 old\r\n") == "EHLO mx.contoso.com\r\n");
    BOOST_TEST(h.feed("502 5.5.1 what\r\n") == "HELO mx.contoso.com\r\n");
    h.feed("250 old\r\n");
    BOOST_TEST(h.c.reusable());
}

BOOST_AUTO_TEST_CASE(missing_extensions_answered_locally) {
    client_harness h(opts());
    plain_setup(h, ehlo_plain);
    mail_parameters utf8;
    utf8.smtputf8 = true;
    h.absorb(h.c.mail(parse_path("<a@b.example>", path_kind::reverse).value, utf8));
    BOOST_TEST(h.last<ca::result>()->value.to_wire() == "553 5.6.7 Upstream does not support SMTPUTF8\r\n");
    mail_parameters eight;
    eight.body = body_type::eight_bit_mime;
    h.absorb(h.c.mail(parse_path("<a@b.example>", path_kind::reverse).value, eight));
    BOOST_TEST(h.last<ca::result>()->value.to_wire() == "554 5.6.3 Upstream does not support 8BITMIME\r\n");
    BOOST_TEST(h.take_sent().empty());
    // DSN and SIZE dropped for an upstream without them.
    mail_parameters dsn;
    dsn.size = 5;
    dsn.ret = dsn_ret::full;
    dsn.envid = "x";
    h.absorb(h.c.mail(parse_path("<a@b.example>", path_kind::reverse).value, dsn));
    BOOST_TEST(h.take_sent() == "MAIL FROM:<a@b.example>\r\n");
    h.feed("250 ok\r\n");
    rcpt_parameters rp;
    rp.notify = notify_failure;
    h.absorb(h.c.rcpt(addr("<u@contoso.com>"), rp));
    BOOST_TEST(h.take_sent() == "RCPT TO:<u@contoso.com>\r\n");
}

// Issue 15 item 4: DSN parameters an upstream without DSN cannot take are
// not dropped silently: each accepted RCPT they concern says so in a line of
// its own (the MAIL's RET/ENVID on the first), the log too; a refused RCPT
// is passed on as it came, and an upstream with DSN gets them all.
BOOST_AUTO_TEST_CASE(dsn_not_relayed_is_said_in_the_rcpt_reply) {
    client_harness h(opts(upstream_tls::none));
    plain_setup(h, "250-backend.example\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n");
    mail_parameters mp;
    mp.ret = dsn_ret::headers;
    mp.envid = "q1";
    h.absorb(h.c.mail(parse_path("<a@b.example>", path_kind::reverse).value, mp));
    BOOST_TEST(h.take_sent() == "MAIL FROM:<a@b.example>\r\n");
    h.feed("250 2.1.0 ok\r\n");
    rcpt_parameters notify;
    notify.notify = notify_success;
    h.absorb(h.c.rcpt(addr("<u@contoso.com>"), {}));
    h.absorb(h.c.rcpt(addr("<v@contoso.com>"), {}));
    h.absorb(h.c.rcpt(addr("<w@contoso.com>"), notify));
    h.absorb(h.c.rcpt(addr("<x@contoso.com>"), notify));
    BOOST_TEST(h.take_sent() == "RCPT TO:<u@contoso.com>\r\nRCPT TO:<v@contoso.com>\r\nRCPT TO:<w@contoso.com>\r\n"
                                "RCPT TO:<x@contoso.com>\r\n");
    const std::size_t before = h.actions.size();
    h.feed("250 2.1.5 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n250 2.1.5 ok\r\n");
    std::vector<std::string> replies;
    for (std::size_t i = before; i < h.actions.size(); ++i)
        if (auto* r = std::get_if<ca::result>(&h.actions[i])) replies.push_back(r->value.to_wire());
    const std::string note = "250 2.1.5 DSN request not relayed: the next hop does not support DSN (RFC 3461)\r\n";
    BOOST_TEST_REQUIRE(replies.size() == 4u);
    BOOST_TEST(replies[0] == "250-2.1.5 ok\r\n" + note);  // the MAIL's RET/ENVID
    BOOST_TEST(replies[1] == "250 2.1.5 ok\r\n");         // nothing of its own, RET/ENVID said
    BOOST_TEST(replies[2] == "550 5.1.1 no such user\r\n");
    BOOST_TEST(replies[3] == "250-2.1.5 ok\r\n" + note);  // its NOTIFY
    std::size_t notes = 0;
    for (const auto& a : h.actions)
        if (auto* n = std::get_if<ca::log_note>(&a)) notes += n->text.find("lacks DSN") != std::string::npos;
    BOOST_TEST(notes == 3u);  // RET/ENVID once, NOTIFY twice

    client_harness d(opts(upstream_tls::none));
    plain_setup(d, ehlo_full);
    d.absorb(d.c.mail(parse_path("<a@b.example>", path_kind::reverse).value, mp));
    d.feed("250 ok\r\n");
    d.take_sent();
    d.absorb(d.c.rcpt(addr("<w@contoso.com>"), notify));
    BOOST_TEST(d.take_sent() == "RCPT TO:<w@contoso.com> NOTIFY=SUCCESS\r\n");
    d.feed("250 2.1.5 ok\r\n");
    BOOST_TEST(d.last<ca::result>()->value.to_wire() == "250 2.1.5 ok\r\n");
}

BOOST_AUTO_TEST_CASE(declared_size_over_the_upstream_limit) {
    client_harness h(opts(upstream_tls::none));
    plain_setup(h, ehlo_full);
    mail_parameters big;
    big.size = 1001;
    h.absorb(h.c.mail(parse_path("<>", path_kind::reverse).value, big));
    BOOST_TEST(h.last<ca::result>()->value.code == 552);
}

BOOST_AUTO_TEST_CASE(data_relayed_byte_for_byte) {
    client_harness h(opts(upstream_tls::none));
    plain_setup(h, ehlo_full);
    h.absorb(h.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    h.feed("250 ok\r\n");
    h.absorb(h.c.rcpt(addr("<u@contoso.com>"), {}));
    h.feed("250 ok\r\n");
    h.take_sent();
    h.absorb(h.c.begin_data(data_mode::data));
    BOOST_TEST(h.take_sent() == "DATA\r\n");
    h.feed("354 go\r\n");
    BOOST_TEST((h.last<ca::result>()->stage == upstream_stage::data));
    h.absorb(h.c.bytes("..x\r\n"));
    h.absorb(h.c.end_of_data());
    BOOST_TEST(h.take_sent() == "..x\r\n.\r\n");
    h.feed("250 2.0.0 queued\r\n");
    BOOST_TEST((h.last<ca::result>()->stage == upstream_stage::end_of_data));
    BOOST_TEST(h.c.reusable());
}

BOOST_AUTO_TEST_CASE(bdat_relayed_as_bdat) {
    client_harness h(opts(upstream_tls::none));
    plain_setup(h, ehlo_full);
    h.absorb(h.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    h.feed("250 ok\r\n");
    h.take_sent();
    h.absorb(h.c.begin_data(data_mode::bdat));
    BOOST_TEST(h.last<ca::result>()->value.code == 354);
    h.absorb(h.c.bdat(3, false));
    h.absorb(h.c.bytes("a.b"));
    BOOST_TEST(h.take_sent() == "BDAT 3\r\na.b");
    h.feed("250 2.0.0 3 octets\r\n");
    BOOST_TEST((h.last<ca::result>()->stage == upstream_stage::bdat_chunk));
    h.absorb(h.c.bdat(0, true));
    BOOST_TEST(h.take_sent() == "BDAT 0 LAST\r\n");
    h.feed("250 2.0.0 done\r\n");
    BOOST_TEST((h.last<ca::result>()->stage == upstream_stage::end_of_data));
}

BOOST_AUTO_TEST_CASE(bdat_converted_to_data_with_dot_stuffing) {
    client_harness h(opts(upstream_tls::none));
    plain_setup(h, ehlo_plain);
    h.absorb(h.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    h.feed("250 ok\r\n");
    h.take_sent();
    h.absorb(h.c.begin_data(data_mode::bdat));
    BOOST_TEST(h.take_sent() == "DATA\r\n");
    h.feed("354 go\r\n");
    h.absorb(h.c.bdat(9, false));
    h.absorb(h.c.bytes(".one\r\n.\r\n"));
    BOOST_TEST(h.last<ca::result>()->value.code == 250);  // chunk taken
    h.absorb(h.c.bdat(3, true));
    h.absorb(h.c.bytes("end"));
    BOOST_TEST(h.take_sent() == "..one\r\n..\r\nend\r\n.\r\n");
    h.feed("250 queued\r\n");
    BOOST_TEST((h.last<ca::result>()->stage == upstream_stage::end_of_data));
}

BOOST_AUTO_TEST_CASE(abort_in_content_closes_and_outside_sends_rset) {
    client_harness h(opts(upstream_tls::none));
    plain_setup(h, ehlo_plain);
    h.absorb(h.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    h.feed("250 ok\r\n");
    h.take_sent();
    h.absorb(h.c.abort());
    BOOST_TEST(h.take_sent() == "RSET\r\n");
    h.feed("250 ok\r\n");
    BOOST_TEST(h.c.reusable());
    h.absorb(h.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    h.feed("250 ok\r\n");
    h.absorb(h.c.begin_data(data_mode::data));
    h.feed("354 go\r\n");
    h.absorb(h.c.bytes("partial"));
    h.take_sent();
    h.absorb(h.c.abort());
    BOOST_TEST(h.take_sent().empty());  // never a final dot
    BOOST_TEST(h.count<ca::close_connection>() == 1u);
}

BOOST_AUTO_TEST_CASE(upstream_failures_are_reported_with_their_stage) {
    client_harness h(opts(upstream_tls::none));
    plain_setup(h, ehlo_plain);
    h.absorb(h.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    h.feed("250 ok\r\n");
    h.absorb(h.c.begin_data(data_mode::data));
    h.feed("354 go\r\n");
    h.absorb(h.c.on_closed());
    BOOST_TEST((h.last<ca::failure>()->stage == upstream_stage::end_of_data));
    client_harness g(opts());
    g.absorb(g.c.mail(parse_path("<>", path_kind::reverse).value, {}));
    g.feed("554 go away\r\n");
    BOOST_TEST((g.last<ca::failure>()->stage == upstream_stage::mail));
    client_harness m(opts());
    m.feed("220 x\r\n");
    m.feed("250 unsolicited\r\n");  // answers EHLO: fine
    m.feed("250 unsolicited\r\n");  // answers nothing: broken upstream
    BOOST_TEST((m.c.state() == client_state::closed));
    client_harness bad(opts());
    bad.feed("hello\r\n");
    BOOST_TEST((bad.c.state() == client_state::closed));
}

BOOST_AUTO_TEST_CASE(unsolicited_upstream_data_limit) {
    auto o = opts();
    o.limits.pending_input_max = 100;
    o.limits.reply_line_max = 1000;
    client_harness h(o);
    h.feed("220-" + std::string(150, 'x'));
    BOOST_TEST((h.c.state() == client_state::closed));
}

BOOST_AUTO_TEST_SUITE_END()
