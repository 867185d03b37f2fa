// tlsrpt_report: the RFC 8460 §4 JSON, checked field by field, its gzip
// form, and the §5.3 mail headers and attachment.
#include "proxy/sts/tlsrpt_report.hpp"

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <zlib.h>

namespace s = dsproxy::sts;
using nlohmann::json;

namespace {

const std::string sts_text = "version: STSv1\r\nmode: enforce\r\nmx: *.mail.example.net\r\nmx: backup.example.net\r\nmax_age: 86400\r\n";

s::tlsrpt_key key(s::policy_type type, std::string text, std::optional<s::result_type> failure = std::nullopt,
                  std::string mx = {}, std::string ip = {}) {
    s::tlsrpt_key k;
    k.type = type;
    k.policy_text = std::move(text);
    k.failure = failure;
    if (failure) {
        k.sending_ip = "192.0.2.10";
        k.receiving_mx = std::move(mx);
        k.receiving_ip = std::move(ip);
    }
    return k;
}

const s::report_sender_facts facts{"Example Sender Ltd", "tlsrpt@sender.example", "noreply-tlsrpt@sender.example",
                                   "mta.sender.example"};

std::string gunzip(const std::string& in) {
    z_stream z{};
    BOOST_REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
    std::string out(1 << 20, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    BOOST_REQUIRE(inflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    inflateEnd(&z);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(periods) {
    const auto p = s::period_of("2026-12-02");
    BOOST_TEST(p.start == 1796169600);
    BOOST_TEST(p.end == 1796169600 + 86399);
    BOOST_TEST(s::period_of("2026-02-30").start == 0);
    BOOST_TEST(s::period_of("2026-1-02").start == 0);
    BOOST_TEST(s::period_of("2026-01-02x").start == 0);
    BOOST_TEST(s::report_id(p, "example.net", "mta.sender.example") == "2026-12-02T00:00:00Z_example.net@mta.sender.example");
    BOOST_TEST(s::report_file_name(p, "example.net", "mta.sender.example") ==
               "mta.sender.example!example.net!1796169600!1796255999!2026-12-02.json.gz");
}

BOOST_AUTO_TEST_CASE(report_fields_follow_rfc_8460_section_4) {
    const std::vector<s::tlsrpt_count> counts{
        {key(s::policy_type::sts, sts_text), 90},
        {key(s::policy_type::sts, sts_text, s::result_type::certificate_host_mismatch, "mx1.mail.example.net", "198.51.100.1"), 3},
        {key(s::policy_type::sts, sts_text, s::result_type::certificate_host_mismatch, "mx1.mail.example.net", "198.51.100.1"), 2},
        {key(s::policy_type::sts, sts_text, s::result_type::starttls_not_supported, "mx2.mail.example.net", "198.51.100.2"), 1},
        {key(s::policy_type::no_policy_found, ""), 7},
    };
    const auto text = s::build_report(facts, s::period_of("2026-12-02"), "example.net", counts);
    const auto r = json::parse(text);
    BOOST_TEST(r["organization-name"] == "Example Sender Ltd");
    BOOST_TEST(r["contact-info"] == "tlsrpt@sender.example");
    BOOST_TEST(r["report-id"] == "2026-12-02T00:00:00Z_example.net@mta.sender.example");
    BOOST_TEST(r["date-range"]["start-datetime"] == "2026-12-02T00:00:00Z");
    BOOST_TEST(r["date-range"]["end-datetime"] == "2026-12-02T23:59:59Z");
    BOOST_REQUIRE(r["policies"].size() == 2u);
    const auto& sts = r["policies"][0];
    BOOST_TEST(sts["policy"]["policy-type"] == "sts");
    BOOST_TEST(sts["policy"]["policy-domain"] == "example.net");
    BOOST_TEST((sts["policy"]["policy-string"] == json::array({"version: STSv1", "mode: enforce", "mx: *.mail.example.net",
                                                               "mx: backup.example.net", "max_age: 86400"})));
    BOOST_TEST((sts["policy"]["mx-host"] == json::array({"*.mail.example.net", "backup.example.net"})));
    BOOST_TEST(sts["summary"]["total-successful-session-count"] == 90);
    BOOST_TEST(sts["summary"]["total-failure-session-count"] == 6);
    BOOST_REQUIRE(sts["failure-details"].size() == 2u);
    const auto& mismatch = sts["failure-details"][0];
    BOOST_TEST(mismatch["result-type"] == "certificate-host-mismatch");
    BOOST_TEST(mismatch["sending-mta-ip"] == "192.0.2.10");
    BOOST_TEST(mismatch["receiving-mx-hostname"] == "mx1.mail.example.net");
    BOOST_TEST(mismatch["receiving-ip"] == "198.51.100.1");
    BOOST_TEST(mismatch["failed-session-count"] == 5);
    BOOST_TEST(sts["failure-details"][1]["result-type"] == "starttls-not-supported");
    const auto& none = r["policies"][1];
    BOOST_TEST(none["policy"]["policy-type"] == "no-policy-found");
    BOOST_TEST(!none["policy"].contains("mx-host"));
    BOOST_TEST(none["summary"]["total-successful-session-count"] == 7);
    BOOST_TEST(none["summary"]["total-failure-session-count"] == 0);
    BOOST_TEST(!none.contains("failure-details"));
}

BOOST_AUTO_TEST_CASE(gzip_round_trips) {
    const std::string data = s::build_report(facts, s::period_of("2026-12-02"), "example.net", {});
    const auto z = s::gzip(data);
    BOOST_TEST(static_cast<unsigned char>(z[0]) == 0x1fu);
    BOOST_TEST(static_cast<unsigned char>(z[1]) == 0x8bu);
    BOOST_TEST(gunzip(z) == data);
}

BOOST_AUTO_TEST_CASE(mail_has_the_section_5_3_headers) {
    const auto z = s::gzip("{}");
    const auto m = s::build_report_mail(facts, s::period_of("2026-12-02"), "example.net", "tlsrpt@example.net", z,
                                        "Thu, 03 Dec 2026 00:10:00 +0000");
    for (const char* line :
         {"From: <noreply-tlsrpt@sender.example>\r\n", "To: <tlsrpt@example.net>\r\n",
          "Subject: Report Domain: example.net Submitter: mta.sender.example Report-ID: "
          "<2026-12-02T00:00:00Z_example.net@mta.sender.example>\r\n",
          "TLS-Report-Domain: example.net\r\n", "TLS-Report-Submitter: mta.sender.example\r\n",
          "Content-Type: application/tlsrpt+gzip\r\n", "Content-Transfer-Encoding: base64\r\n",
          "filename=\"mta.sender.example!example.net!1796169600!1796255999!2026-12-02.json.gz\""})
        BOOST_TEST(m.find(line) != std::string::npos, line);
    BOOST_TEST(m.find("Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=") != std::string::npos);
    // The attachment decodes to the gzip bytes.
    const auto start = m.find("\r\n\r\n", m.find("application/tlsrpt+gzip")) + 4;
    const auto end = m.find("\r\n--", start);
    const std::string b64 = m.substr(start, end - start);
    std::string decoded(b64.size(), '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    BOOST_REQUIRE(n >= static_cast<int>(z.size()));
    BOOST_TEST(decoded.substr(0, z.size()) == z);
}
