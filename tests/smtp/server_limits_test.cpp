// Tests for server_session: every limit exceeded, every illegal sequence and
// its code, bare LF / CR in DATA under both policies, BDAT.
#include "server_harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::smtp;
using dsproxy::smtp::test::harness;
using dsproxy::smtp::test::test_options;
namespace a = dsproxy::smtp::actions;

namespace {
bool has(const std::string& text, std::string_view needle) { return text.find(needle) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_SUITE(server_limits_tests)

BOOST_AUTO_TEST_CASE(illegal_sequences_and_syntax_codes) {
    harness h;
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example>\r\n") == "503 5.5.1 Error: send HELO/EHLO first\r\n");
    BOOST_TEST(h.feed("RCPT TO:<u@contoso.com>\r\n") == "503 5.5.1 Error: send HELO/EHLO first\r\n");
    h.feed("EHLO c\r\n");
    BOOST_TEST(h.feed("RCPT TO:<u@contoso.com>\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
    BOOST_TEST(h.feed("DATA\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
    BOOST_TEST(h.feed("XYZZY\r\n") == "500 5.5.2 Error: command not recognized\r\n");
    BOOST_TEST(h.feed("EXPN staff\r\n") == "502 5.5.1 Error: command not implemented\r\n");
    BOOST_TEST(h.feed("AUTH PLAIN AAAA\r\n") == "502 5.5.1 Error: authentication not supported\r\n");
    BOOST_TEST(h.feed("EHLO\r\n") == "501 5.5.4 Syntax: EHLO needs an argument\r\n");
    BOOST_TEST(h.feed("MAIL TO:<a@b.example>\r\n") == "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@@b>\r\n") == "501 5.1.7 Error: bad sender address syntax\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example> FOO=1\r\n") ==
               "555 5.5.4 Error: unsupported MAIL FROM parameter FOO\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example> BODY=9BIT\r\n") == "501 5.5.4 Error: bad MAIL FROM parameter BODY\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n") ==
               "504 5.5.4 Error: BODY=BINARYMIME not supported\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<j\xc3\xb6rg@b.example>\r\n") ==
               "553 5.6.7 Error: non-ASCII sender address needs SMTPUTF8\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example>\r\n") == "250 2.1.0 Ok\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example>\r\n") == "503 5.5.1 Error: nested MAIL command\r\n");
    BOOST_TEST(h.feed("DATA\r\n") == "554 5.5.1 Error: no valid recipients\r\n");
    BOOST_TEST(h.feed("RCPT TO:<u@>\r\n") == "501 5.1.3 Error: bad recipient address syntax\r\n");
    BOOST_TEST(h.feed("RCPT TO:<u@contoso.com> NOTIFY=SOMETIMES\r\n") ==
               "501 5.5.4 Error: bad RCPT TO parameter NOTIFY\r\n");
    BOOST_TEST(h.feed("RCPT TO:<j\xc3\xb6rg@contoso.com>\r\n") ==
               "553 5.6.7 Error: non-ASCII recipient address needs SMTPUTF8\r\n");
    BOOST_TEST(h.feed("DATA now\r\n") == "501 5.5.4 Syntax: DATA takes no arguments\r\n");
    BOOST_TEST(h.feed("NOOP\nRSET\r\n") == "500 5.5.2 Error: bare <LF> received\r\n250 2.0.0 Ok\r\n");
    BOOST_TEST(h.feed(std::string("NO\0OP\r\n", 7)) == "500 5.5.2 Error: bad characters in command\r\n");
    BOOST_TEST(h.feed("VRFY u\r\n").rfind("252 2.0.0", 0) == 0u);
    BOOST_TEST(h.feed("HELP\r\n") == "214 2.0.0 See RFC 5321\r\n");
}

BOOST_AUTO_TEST_CASE(helo_sessions_take_no_parameters_and_utf8_needs_smtputf8) {
    harness h;
    h.feed("HELO c\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example> SIZE=10\r\n") == "555 5.5.4 Error: parameters need EHLO\r\n");
    harness u;
    u.feed("EHLO c\r\n");
    BOOST_TEST(u.feed("MAIL FROM:<j\xc3\xb6rg@b.example> SMTPUTF8\r\n") == "250 2.1.0 Ok\r\n");
    BOOST_TEST(u.feed("RCPT TO:<j\xc3\xb6rg@contoso.com>\r\n").empty());  // relayed
    BOOST_TEST(u.count<a::upstream_mail>() == 1u);
}

BOOST_AUTO_TEST_CASE(command_line_limit) {
    harness h;
    h.feed("EHLO c\r\n");
    const std::string ok = "NOOP " + std::string(505, 'x') + "\r\n";  // 512 octets
    BOOST_TEST(h.feed(ok) == "250 2.0.0 Ok\r\n");
    const std::string over = "NOOP " + std::string(506, 'x') + "\r\nNOOP\r\n";
    BOOST_TEST(h.feed(over) == "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n");
}

BOOST_AUTO_TEST_CASE(bad_command_limit) {
    auto o = test_options();
    o.limits.bad_commands_max = 3;
    harness h(o);
    h.feed("FOO\r\nBAR\r\n");
    BOOST_TEST(!h.s.closed());
    const auto r = h.feed("BAZ\r\nNOOP\r\n");
    BOOST_TEST(r == "500 5.5.2 Error: command not recognized\r\n421 4.7.0 mx.contoso.com Error: too many errors\r\n");
    BOOST_TEST(h.s.closed());
}

// Issue 14 item 6: a BDAT without MAIL is answered after its chunk and
// counts towards the limit like any refused command (it was never counted:
// a client could send BDATs without MAIL for ever).
BOOST_AUTO_TEST_CASE(bdat_without_mail_counts_towards_the_bad_command_limit) {
    auto o = test_options();
    o.limits.bad_commands_max = 3;
    harness h(o);
    h.feed("EHLO c\r\n");
    BOOST_TEST(h.feed("BDAT 3\r\nabc") == "503 5.5.1 Error: need MAIL command\r\n");
    BOOST_TEST(h.feed("BDAT 3\r\nabc") == "503 5.5.1 Error: need MAIL command\r\n");
    BOOST_TEST(!h.s.closed());
    BOOST_TEST(h.feed("BDAT 2 LAST\r\nab") ==
               "503 5.5.1 Error: need MAIL command\r\n421 4.7.0 mx.contoso.com Error: too many errors\r\n");
    BOOST_TEST(h.s.closed());
}

// Issue 15 item 7: a pipelining client's RCPTs and DATA behind a refused
// MAIL each get their 503, and the refused transaction counts once: 100
// RCPTs used to count 100 errors and end the session with 421 after 19.
BOOST_AUTO_TEST_CASE(pipelined_commands_behind_a_refused_mail_count_once) {
    harness h;  // bad_commands_max 20
    h.feed("EHLO c\r\n");
    std::string batch = "MAIL FROM:<a@@b.example>\r\n";
    std::string expected = "501 5.1.7 Error: bad sender address syntax\r\n";
    for (int i = 0; i < 100; ++i) {
        batch += "RCPT TO:<u" + std::to_string(i) + "@contoso.com>\r\n";
        expected += "503 5.5.1 Error: need MAIL command\r\n";
    }
    batch += "DATA\r\n";
    expected += "503 5.5.1 Error: need MAIL command\r\n";
    BOOST_TEST(h.feed(batch) == expected);
    BOOST_TEST(!h.s.closed());
    BOOST_TEST(h.s.bad_commands() == 1u);  // the MAIL's syntax error
    // DATA ended the group: a 503 now is a mistake of its own.
    BOOST_TEST(h.feed("RCPT TO:<u@contoso.com>\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
    BOOST_TEST(h.s.bad_commands() == 2u);
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example>\r\n") == "250 2.1.0 Ok\r\n");
}

BOOST_AUTO_TEST_CASE(commands_behind_a_policy_refused_mail_and_bdat_are_not_counted) {
    auto p = dsproxy::smtp::test::contoso_policy();
    p.check_sender = [](const path&, const std::optional<tls_facts>&) {
        return sender_verdict{make_reply(454, "4.7.0 Error: client certificate required"), false};
    };
    auto o = test_options();
    o.limits.bad_commands_max = 3;
    harness h(o, p);
    h.feed("EHLO c\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example>\r\nRCPT TO:<u@contoso.com>\r\nRCPT TO:<v@contoso.com>\r\n"
                      "RCPT TO:<w@contoso.com>\r\nBDAT 5 LAST\r\nhello") ==
               "454 4.7.0 Error: client certificate required\r\n"
               "503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need MAIL command\r\n"
               "503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need MAIL command\r\n");
    BOOST_TEST(!h.s.closed());
    BOOST_TEST(h.s.bad_commands() == 0u);
    BOOST_TEST(h.count<a::upstream_mail>() == 0u);
}

// The pass is bounded: after a refused MAIL at most recipients_max RCPTs and
// a DATA go uncounted, so RCPTs sent for ever still reach the limit.
BOOST_AUTO_TEST_CASE(commands_behind_a_refused_mail_are_uncounted_only_up_to_a_transaction) {
    auto o = test_options();
    o.limits.recipients_max = 5;
    o.limits.bad_commands_max = 3;
    harness h(o);
    h.feed("EHLO c\r\n");
    std::string batch = "MAIL FROM:<a@@b.example>\r\n";
    for (int i = 0; i < 6; ++i) batch += "RCPT TO:<u@contoso.com>\r\n";
    h.feed(batch);
    BOOST_TEST(h.s.bad_commands() == 1u);
    BOOST_TEST(!h.s.closed());
    h.feed("RCPT TO:<u@contoso.com>\r\n");
    BOOST_TEST(h.s.bad_commands() == 2u);
    BOOST_TEST(h.feed("RCPT TO:<u@contoso.com>\r\n") ==
               "503 5.5.1 Error: need MAIL command\r\n421 4.7.0 mx.contoso.com Error: too many errors\r\n");
    BOOST_TEST(h.s.closed());
}

BOOST_AUTO_TEST_CASE(recipient_limit) {
    auto o = test_options();
    o.limits.recipients_max = 2;
    harness h(o);
    h.open_transaction();
    h.feed("RCPT TO:<v@contoso.com>\r\n");
    BOOST_TEST(h.upstream(upstream_stage::rcpt, 250, "2.1.5 Ok") == "250 2.1.5 Ok\r\n");
    BOOST_TEST(h.feed("RCPT TO:<w@contoso.com>\r\n") == "452 4.5.3 Error: too many recipients\r\n");
    BOOST_TEST(h.count<a::upstream_rcpt>() == 2u);
}

BOOST_AUTO_TEST_CASE(message_size_limit_declared_and_actual) {
    auto o = test_options();
    o.limits.message_size_max = 20;
    harness h(o);
    h.feed("EHLO c\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example> SIZE=21\r\n") == "552 5.3.4 Error: message size exceeds fixed limit\r\n");
    h.open_transaction();
    h.feed("DATA\r\n");
    h.upstream(upstream_stage::data, 354, "go");
    BOOST_TEST(h.feed("0123456789\r\n0123456789\r\n.\r\n") == "552 5.3.4 Error: message size exceeds fixed limit\r\n");
    BOOST_TEST(h.count<a::upstream_abort>() == 1u);
    BOOST_TEST(h.count<a::upstream_end_of_data>() == 0u);
}

BOOST_AUTO_TEST_CASE(text_line_limit) {
    auto o = test_options();
    o.limits.text_line_max = 12;
    harness h(o);
    h.open_transaction();
    h.feed("DATA\r\n");
    h.upstream(upstream_stage::data, 354, "go");
    BOOST_TEST(h.feed("0123456789\r\n0123456789X\r\n.\r\n") ==
               "552 5.6.0 Error: message line longer than 12 octets\r\n");
    BOOST_TEST(h.count<a::upstream_abort>() == 1u);
}

// Issue 15 item 8: BDAT content gets DATA's text line limit and reply (it
// passed any line length), a line counted across chunk boundaries.
BOOST_AUTO_TEST_CASE(text_line_limit_applies_to_bdat_as_to_data) {
    auto o = test_options();
    o.limits.text_line_max = 12;
    harness h(o);
    h.open_transaction();
    h.feed("BDAT 12\r\n0123456789\r\n");  // 12 octets with the CRLF: within the limit
    h.upstream(upstream_stage::data, 354, "ready");
    BOOST_TEST(h.upstream(upstream_stage::bdat_chunk, 250, "2.0.0 ok") == "250 2.0.0 ok\r\n");
    BOOST_TEST(h.feed("BDAT 6\r\n012345") == "");
    BOOST_TEST(h.upstream(upstream_stage::bdat_chunk, 250, "2.0.0 ok") == "250 2.0.0 ok\r\n");
    const std::size_t relayed = h.relayed().size();
    BOOST_TEST(h.feed("BDAT 7 LAST\r\n6789X\r\n") == "552 5.6.0 Error: message line longer than 12 octets\r\n");
    BOOST_TEST(h.relayed().size() == relayed);  // the chunk with the long line is not relayed
    BOOST_TEST(h.count<a::upstream_abort>() == 1u);
    BOOST_TEST(h.count<a::upstream_end_of_data>() == 0u);
    BOOST_TEST((h.s.state() == server_state::ready));
}

BOOST_AUTO_TEST_CASE(pending_input_limit) {
    auto o = test_options();
    o.limits.pending_input_max = 64;
    harness h(o);
    h.feed("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@contoso.com>\r\n");
    BOOST_TEST(!h.s.wants_input());
    BOOST_TEST(h.feed(std::string(60, 'N')).empty());
    BOOST_TEST(h.feed("OOP\r\nNOOP\r\n") == "421 4.7.0 mx.contoso.com Error: too much pipelined input\r\n");
    BOOST_TEST(h.s.closed());
    BOOST_TEST(h.count<a::upstream_abort>() == 1u);
}

BOOST_AUTO_TEST_CASE(bare_lf_in_data_rejected_after_the_real_end) {
    harness h;
    h.open_transaction();
    h.feed("DATA\r\n");
    h.upstream(upstream_stage::data, 354, "go");
    // A smuggling attempt: "\n.\r\n" then a second transaction inside the data.
    const auto r = h.feed("a\n.\r\nMAIL FROM:<x@evil.example>\r\nRCPT TO:<u@contoso.com>\r\nDATA\r\n\r\n.\r\nNOOP\r\n");
    BOOST_TEST(r == "554 5.6.0 Error: bare <LF> or <CR> in message data is not allowed\r\n250 2.0.0 Ok\r\n");
    BOOST_TEST(h.count<a::upstream_abort>() == 1u);
    BOOST_TEST(h.count<a::upstream_end_of_data>() == 0u);
    BOOST_TEST(h.count<a::upstream_mail>() == 1u);  // the smuggled MAIL never ran
}

BOOST_AUTO_TEST_CASE(bare_lf_in_data_normalised_when_configured) {
    auto o = test_options();
    o.data_bare_newline = bare_newline_policy::normalize;
    harness h(o);
    h.open_transaction();
    h.feed("DATA\r\n");
    h.upstream(upstream_stage::data, 354, "go");
    BOOST_TEST(h.feed("a\n.\r\nb\r\n.\r\n").empty());
    BOOST_TEST(h.count<a::upstream_end_of_data>() == 1u);
    BOOST_TEST(has(h.relayed(), "\r\na\r\n..\r\nb\r\n"));
}

BOOST_AUTO_TEST_CASE(bdat_relayed_in_chunks) {
    harness h;
    h.open_transaction();
    BOOST_TEST(h.feed("BDAT 5\r\nhello").empty());
    BOOST_TEST((h.last<a::upstream_data>()->mode == data_mode::bdat));
    h.upstream(upstream_stage::data, 354, "ready");  // synthesised by the client leg
    const auto* first = h.last<a::upstream_bdat>();
    BOOST_TEST_REQUIRE(first != nullptr);
    BOOST_TEST(!first->last);
    BOOST_TEST(first->size == 5u + h.relayed().find("hello"));  // Received header + chunk
    BOOST_TEST(h.upstream(upstream_stage::bdat_chunk, 250, "2.0.0 5 octets") == "250 2.0.0 5 octets\r\n");
    BOOST_TEST(h.feed("BDAT 7 LAST\r\n world\n") ==
               "554 5.6.0 Error: bare <LF> or <CR> in message data is not allowed\r\n");
    BOOST_TEST(h.count<a::upstream_abort>() == 1u);
}

BOOST_AUTO_TEST_CASE(bdat_last_gets_the_upstream_final_reply) {
    harness h;
    h.open_transaction();
    h.feed("BDAT 3\r\nabc");
    h.upstream(upstream_stage::data, 354, "ready");
    h.upstream(upstream_stage::bdat_chunk, 250, "2.0.0 ok");
    BOOST_TEST(h.feed("BDAT 0 LAST\r\n").empty());
    BOOST_TEST(h.last<a::upstream_bdat>()->last);
    BOOST_TEST(h.upstream(upstream_stage::end_of_data, 250, "2.0.0 queued") == "250 2.0.0 queued\r\n");
    BOOST_TEST(h.feed("DATA\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
}

BOOST_AUTO_TEST_CASE(bdat_refused_still_consumes_its_chunk) {
    harness h;
    h.feed("EHLO c\r\n");
    // The chunk holds what looks like commands; they must never run.
    BOOST_TEST(h.feed("BDAT 12\r\nQUIT\r\nQUIT\r\nNOOP\r\n") ==
               "503 5.5.1 Error: need MAIL command\r\n250 2.0.0 Ok\r\n");
    BOOST_TEST(!h.s.closed());
    BOOST_TEST(h.feed("BDAT x\r\n") == "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n");
    BOOST_TEST(h.s.closed());
}

BOOST_AUTO_TEST_CASE(bdat_size_limit) {
    auto o = test_options();
    o.limits.message_size_max = 10;
    harness h(o);
    h.open_transaction();
    h.feed("BDAT 6\r\n123456");
    h.upstream(upstream_stage::data, 354, "ready");
    h.upstream(upstream_stage::bdat_chunk, 250, "2.0.0 ok");
    BOOST_TEST(h.feed("BDAT 5 LAST\r\n12345") == "552 5.3.4 Error: message size exceeds fixed limit\r\n");
    BOOST_TEST(h.count<a::upstream_abort>() == 1u);
    BOOST_TEST((h.s.state() == server_state::ready));
}

BOOST_AUTO_TEST_SUITE_END()

// limits.message_rate_per_client (docs/design.md §2): the MAIL over the rate
// gets the policy's reply; a 421 closes the session, and nothing pipelined
// behind it is answered or relayed.
BOOST_AUTO_TEST_CASE(a_mail_over_the_message_rate_gets_421_and_the_session_closes) {
    auto p = dsproxy::smtp::test::contoso_policy();
    int allowed = 2;
    p.admit_message = [&allowed]() -> std::optional<reply> {
        if (allowed-- > 0) return std::nullopt;
        return make_reply(421, "4.7.0 Too much mail from your network (limit 2 messages per minute), try again later");
    };
    harness h(test_options(), p);
    h.feed("EHLO c\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example>\r\n") == "250 2.1.0 Ok\r\n");
    BOOST_TEST(h.feed("RSET\r\n") == "250 2.0.0 Ok\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example>\r\n") == "250 2.1.0 Ok\r\n");
    BOOST_TEST(h.feed("RSET\r\n") == "250 2.0.0 Ok\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example>\r\nRCPT TO:<u@contoso.com>\r\nDATA\r\n") ==
               "421 4.7.0 Too much mail from your network (limit 2 messages per minute), try again later\r\n");
    BOOST_TEST(h.s.closed());
    BOOST_TEST(h.count<a::upstream_mail>() == 0u);
}

BOOST_AUTO_TEST_CASE(a_mail_refused_by_the_rate_with_4xx_keeps_the_session) {
    auto p = dsproxy::smtp::test::contoso_policy();
    p.admit_message = []() -> std::optional<reply> { return make_reply(450, "4.7.1 Slow down"); };
    harness h(test_options(), p);
    h.feed("EHLO c\r\n");
    BOOST_TEST(h.feed("MAIL FROM:<a@b.example>\r\n") == "450 4.7.1 Slow down\r\n");
    BOOST_TEST(!h.s.closed());
    // A refused MAIL is not counted by the sender policy's check either way.
    BOOST_TEST(h.s.bad_commands() == 0u);
}
