// transaction_log_test — the relay's `txn` line and its TLS summary as pure
// functions (issue 14 item 5): every field present, peer-chosen bytes escaped
// so no envelope, reply or certificate name can end the line or forge a field
// (docs/design.md §8, §10), `-` for what a transaction did not get to.
#include "proxy/engine/transaction_log.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy;
using engine::transaction_record;

namespace {

transaction_record delivered() {
    transaction_record t;
    t.from = "<alice@sender.example>";
    t.recipients = {"<bob@example.com>", "<carol@example.com>"};
    t.size = 529;
    t.upstream = "mx:example.com";
    t.final_reply = smtp::make_reply(250, "2.0.0 Ok: queued as 4711");
    t.duration = std::chrono::milliseconds(42);
    t.host = "mx1.example.com:25";
    t.tls = "TLSv1.3 passed";
    return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_delivered_transaction_has_every_field) {
    BOOST_TEST(engine::transaction_line(delivered()) ==
               "from=<alice@sender.example> to=<bob@example.com>,<carol@example.com> size=529 "
               "upstream=mx:example.com result=\"250 2.0.0 Ok: queued as 4711\" duration_ms=42 "
               "host=mx1.example.com:25 tls=\"TLSv1.3 passed\" dane=- sts=- sts_id=-");
}

BOOST_AUTO_TEST_CASE(the_dane_outcome_ends_the_line) {
    // docs/design.md §6.4: what DANE made of the connection used.
    auto t = delivered();
    t.dane = "authenticated";
    BOOST_TEST(engine::transaction_line(t).ends_with(" tls=\"TLSv1.3 passed\" dane=authenticated sts=- sts_id=-"));
    t.dane = "unauthenticated-required";
    BOOST_TEST(engine::transaction_line(t).ends_with(" dane=unauthenticated-required sts=- sts_id=-"));
}

BOOST_AUTO_TEST_CASE(the_mta_sts_outcome_and_policy_id_end_the_line) {
    // docs/design.md §6.4: the recipient domain's MTA-STS and the policy id.
    auto t = delivered();
    t.sts = "enforce-ok";
    t.sts_id = "20261203T1";
    BOOST_TEST(engine::transaction_line(t).ends_with(" dane=- sts=enforce-ok sts_id=20261203T1"));
    // The id is the destination's text: quoted when it could read as a field.
    t.sts_id = "x sts=none";
    BOOST_TEST(engine::transaction_line(t).ends_with(" sts=enforce-ok sts_id=\"x sts=none\""));
}

BOOST_AUTO_TEST_CASE(a_transaction_without_reply_says_why_and_dashes_what_it_lacks) {
    transaction_record t;
    t.from = "<>";
    t.upstream = "backend";
    t.failure = "aborted";
    BOOST_TEST(engine::transaction_line(t) ==
               "from=<> to=- size=0 upstream=backend result=\"failed: aborted\" duration_ms=0 host=- tls=- dane=- sts=- sts_id=-");
}

BOOST_AUTO_TEST_CASE(peer_chosen_bytes_cannot_end_the_line_or_forge_a_field) {
    auto t = delivered();
    t.from = "<a@b>\r\ninfo sid=x txn from=<forged@x>";
    t.recipients = {"<c@d> result=250"};
    t.final_reply = smtp::make_reply(250, "2.0.0 ok\nresult=forged");
    t.host = "mx\n.example:25";
    t.tls = "TLSv1.3 passed matched=\"x\" rule=exact\r\n";
    const auto line = engine::transaction_line(t);
    BOOST_TEST(line.find('\r') == std::string::npos);
    BOOST_TEST(line.find('\n') == std::string::npos);
    // One field of each name: nothing a peer sent reads as a field of ours.
    for (const char* field : {" to=", " result=", " host=", " tls=", " size=", " dane=", " sts=", " sts_id="}) {
        const auto first = line.find(field);
        BOOST_TEST_REQUIRE(first != std::string::npos);
        std::size_t unquoted = 0;
        bool quoted = false;
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (line[i] == '\\') { ++i; continue; }
            if (line[i] == '"') quoted = !quoted;
            if (!quoted && line.compare(i, std::string_view(field).size(), field) == 0) ++unquoted;
        }
        BOOST_TEST(unquoted == 1u, field);
    }
    BOOST_TEST(line.starts_with("from=\"<a@b>\\x0d\\x0ainfo sid=x txn from=<forged@x>\" "));
}

// Issue 15 item 3: the queue id on the last line of a multi-line 250 was lost.
BOOST_AUTO_TEST_CASE(a_multi_line_final_reply_is_logged_whole) {
    auto t = delivered();
    smtp::reply multi;
    multi.code = 250;
    multi.lines = {"2.0.0 Ok: queued", "2.0.0 as 4F1A2B3C"};
    t.final_reply = multi;
    BOOST_TEST(engine::transaction_line(t).find(" result=\"250-2.0.0 Ok: queued | 250 2.0.0 as 4F1A2B3C\" ") !=
               std::string::npos);
    // Bounded: a next hop that answers with many long lines cannot make the line unbounded.
    multi.lines.assign(200, std::string(200, 'x'));
    t.final_reply = multi;
    const auto line = engine::transaction_line(t);
    BOOST_TEST(line.size() < 2000u);
    BOOST_TEST(line.find(" duration_ms=42 ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_long_recipient_list_is_capped) {
    auto t = delivered();
    t.recipients.assign(5000, "<someone.with.a.long.name@example.com>");
    const auto line = engine::transaction_line(t);
    BOOST_TEST(line.size() < 2000u);
    BOOST_TEST(line.find(" result=\"250 2.0.0 Ok: queued as 4711\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_tls_summary_names_the_match_and_its_rule) {
    net::tls_facts facts{"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""};
    engine::upstream_verdict v;
    BOOST_TEST(engine::tls_summary(facts, v) == "TLSv1.3 unchecked");
    v.checked = true;
    v.result.passed = true;
    v.result.domain_match = matching::match_result{};
    v.result.domain_match->matched = true;
    v.result.domain_match->how = matching::rule::wildcard;
    v.result.domain_match->matched_name = "*.partner.test";
    BOOST_TEST(engine::tls_summary(facts, v) == "TLSv1.3 passed matched=*.partner.test rule=wildcard");
    v.result.domain_match->matched_name = "evil\r\n.partner.test";
    BOOST_TEST(engine::tls_summary(facts, v).find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_host_list_keeps_the_order) {
    BOOST_TEST(engine::host_list({{"mx1.example", 25, {}, nullptr}, {"mx2.example", 2525, {}, nullptr}}) ==
               "mx1.example:25,mx2.example:2525");
    BOOST_TEST(engine::host_list({}) == "");
}

BOOST_AUTO_TEST_CASE(a_transaction_in_flight_ends_as_its_record) {
    engine::transaction_in_flight t;
    t.from.box = {"alice", "sender.example"};
    t.recipients = {"<bob@example.com>"};
    t.size = 12;
    const auto start = engine::steady_clock::time_point{} + std::chrono::seconds(5);
    t.started = start;
    const auto ok = smtp::make_reply(250, "2.0.0 Ok");
    const auto r = t.end(&ok, {}, "mx:example.com", "mx1.example.com:25", "TLSv1.3 passed",
                         start + std::chrono::milliseconds(7));
    BOOST_TEST(r.from == "<alice@sender.example>");
    BOOST_TEST(r.recipients == std::vector<std::string>{"<bob@example.com>"});
    BOOST_TEST(t.recipients.empty());  // taken: the line ends the transaction
    BOOST_TEST(r.size == 12u);
    BOOST_TEST(r.duration.count() == 7);
    BOOST_TEST(r.final_reply->code == 250);
    BOOST_TEST(r.host == "mx1.example.com:25");
    // Without a reply, the failure says why.
    engine::transaction_in_flight aborted;
    aborted.from.null = true;
    const auto a = aborted.end(nullptr, "aborted", "backend", "", "", aborted.started);
    BOOST_TEST(a.from == "<>");
    BOOST_TEST(!a.final_reply);
    BOOST_TEST(a.failure == "aborted");
    BOOST_TEST(engine::transaction_line(a).find("result=\"failed: aborted\"") != std::string::npos);
}
