// Tests for trust_marker_filter: copies of dsproxy's trust marker in a
// client's header section are renamed in place, folding, case and obsolete
// syntax included, at every read split and every BDAT chunk cut; nothing else
// changes, and the length never does (issue 16 item 5).
#include "proxy/smtp/trust_markers.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using dsproxy::smtp::trust_marker_filter;

namespace {

const std::string fqdn = "mx.example.com";

std::string filter(std::string_view in, std::size_t cut, bool chunk_cut = false) {
    trust_marker_filter f(fqdn);
    std::string out;
    f.feed(in.substr(0, cut), out);
    if (chunk_cut) {
        f.flush(out);
        BOOST_TEST(out.size() == cut);  // a chunk's bytes leave with the chunk
    }
    f.feed(in.substr(cut), out);
    f.finish(out);
    return out;
}

// The same at every read split.
std::string filtered(std::string_view in) {
    const std::string once = filter(in, in.size());
    for (std::size_t cut = 0; cut <= in.size(); ++cut) BOOST_TEST(filter(in, cut) == once, "cut " << cut);
    return once;
}

const std::string body = "\r\nReceived: from x by mx.example.com (dsproxy); domain-secured)\r\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(trust_markers)

BOOST_AUTO_TEST_CASE(received_copies_are_renamed_in_place) {
    const std::string forged = "Received: from evil (unknown [192.0.2.1])\r\n\tby mx.example.com (dsproxy) with ESMTPS"
                               "\r\n\t(using TLSv1.3; client certificate verified; domain-secured); Mon, 1 Jan 2026\r\n";
    const std::string genuine = "Received: from a.example by b.example with ESMTP; Mon, 1 Jan 2026\r\n";
    const std::string in = genuine + forged + "Subject: hi\r\n" + body;
    std::string expected = genuine + "X-Forged" + forged.substr(8) + "Subject: hi\r\n" + body;
    BOOST_TEST(filtered(in) == expected);
    // Any case, obsolete white space before the colon, the word in a folded line.
    BOOST_TEST(filtered("RECEIVED: x; Domain-Secured\r\n\r\n") == "X-Forged: x; Domain-Secured\r\n\r\n");
    BOOST_TEST(filtered("Received \t: x\r\n domain-secured\r\n\r\n") == "X-Forged \t: x\r\n domain-secured\r\n\r\n");
    // The last field of a message without a body.
    BOOST_TEST(filtered("Subject: a\r\nReceived: domain-secured\r\n") == "Subject: a\r\nX-Forged: domain-secured\r\n");
}

BOOST_AUTO_TEST_CASE(authentication_results_claiming_our_authserv_id_are_renamed) {
    BOOST_TEST(filtered("Authentication-Results: mx.example.com; dkim=pass\r\n\r\nx\r\n") ==
               "X-Forged-Authn-Results: mx.example.com; dkim=pass\r\n\r\nx\r\n");
    BOOST_TEST(filtered("authentication-results:\r\n \"MX.Example.COM\" 1; none\r\n\r\n") ==
               "X-Forged-Authn-Results:\r\n \"MX.Example.COM\" 1; none\r\n\r\n");
    // Another authserv-id is someone else's claim: kept (RFC 8601 §5).
    const std::string other = "Authentication-Results: mx.sender.example; spf=pass\r\n\r\n";
    BOOST_TEST(filtered(other) == other);
}

BOOST_AUTO_TEST_CASE(everything_else_passes_as_it_is) {
    const std::string in = "Received: from a by b; Mon, 1 Jan 2026\r\nX-Received: domain-secured\r\n"
                           "Subject: Received: domain-secured\r\nReceivedX: domain-secured\r\n" + body;
    BOOST_TEST(filtered(in) == in);
    BOOST_TEST(filtered("") == "");
    BOOST_TEST(filtered("no header at all") == "no header at all");
}

BOOST_AUTO_TEST_CASE(a_candidate_over_the_limit_is_renamed_unread) {
    const std::string in = "Received: " + std::string(trust_marker_filter::field_max, 'x') + " domain-secured\r\n\r\n";
    const auto out = filtered(in);
    BOOST_TEST(out.size() == in.size());
    BOOST_TEST(out.starts_with("X-Forged: "));
}

BOOST_AUTO_TEST_CASE(bdat_chunk_cuts_never_let_a_copy_through) {
    const std::string in = "Subject: s\r\nReceived: from e\r\n by mx.example.com; domain-secured\r\n"
                           "Authentication-Results: mx.example.com; x=pass\r\n" + body;
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        const auto out = filter(in, cut, true);
        BOOST_TEST(out.size() == in.size(), "cut " << cut);
        BOOST_TEST(out.find("\r\nReceived:") == out.find(body), "cut " << cut);  // only the body's
        BOOST_TEST(out.find("Authentication-Results") == std::string::npos, "cut " << cut);
        BOOST_TEST(out.ends_with(body), "cut " << cut);
    }
}

BOOST_AUTO_TEST_SUITE_END()
