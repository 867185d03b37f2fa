// The two TXT records: `_mta-sts` (RFC 8461 §3.1) and `_smtp._tls` (RFC 8460 §3).
#include "proxy/sts/sts_record.hpp"
#include "proxy/sts/tlsrpt_record.hpp"

#include "tests/sts/printers.hpp"

#include <boost/test/unit_test.hpp>

namespace s = dsproxy::sts;
using s::record_status;

namespace {

record_status sts_status(std::vector<std::string> answer) { return s::select_sts_record(answer).status; }
record_status rpt_status(std::vector<std::string> answer) { return s::select_tlsrpt_record(answer).status; }

}  // namespace

BOOST_AUTO_TEST_CASE(sts_record_id) {
    const auto r = s::select_sts_record({"v=STSv1; id=20160831085700Z;"});
    BOOST_TEST(r.status == record_status::ok);
    BOOST_TEST(r.id == "20160831085700Z");
    BOOST_TEST(s::select_sts_record({"v=STSv1;id=abc"}).id == "abc");
    BOOST_TEST(s::select_sts_record({"v=STSv1 ;\tid=abc ; ext=v-1.x ;"}).id == "abc");
    BOOST_TEST(s::select_sts_record({"v=STSv1; ext=1; id=A1"}).id == "A1");
}

BOOST_AUTO_TEST_CASE(sts_record_selection) {
    BOOST_TEST(sts_status({}) == record_status::none);
    BOOST_TEST(sts_status({"v=spf1 -all", "google-site-verification=x"}) == record_status::none);
    BOOST_TEST(sts_status({"v=STSv1"}) == record_status::none);      // no ";": not an STS record
    BOOST_TEST(sts_status({"v=STSv10; id=1"}) == record_status::none);
    BOOST_TEST(sts_status({"V=STSv1; id=1"}) == record_status::none);  // %s"v=STSv1"
    BOOST_TEST(sts_status({"v=STSv1; id=1", "v=spf1 -all"}) == record_status::ok);
    BOOST_TEST(sts_status({"v=STSv1; id=1", "v=STSv1; id=2"}) == record_status::multiple);
    BOOST_TEST(sts_status({"v=STSv1; id=1", "v=STSv1; broken"}) == record_status::multiple);
}

BOOST_AUTO_TEST_CASE(sts_record_invalid) {
    for (const char* bad : {"v=STSv1;", "v=STSv1; ", "v=STSv1; ext=1", "v=STSv1; id=", "v=STSv1; id=a-b",
                            "v=STSv1; id=abcdefghijabcdefghijabcdefghijabc", "v=STSv1; id=1; id=2",
                            "v=STSv1; id=1;;", "v=STSv1;; id=1", "v=STSv1; id =1", "v=STSv1; id= 1",
                            "v=STSv1; id=1 x", "v=STSv1; id=1; e=a=b", "v=STSv1; id=1; _e=1",
                            "v=STSv1; id=1\x01", "v=STSv1; id=1; e=\xc3\xa9"})
        BOOST_TEST(sts_status({bad}) == record_status::invalid, bad);
    BOOST_TEST(sts_status({std::string("v=STSv1; id=1\0", 14)}) == record_status::invalid);
}

BOOST_AUTO_TEST_CASE(tlsrpt_rua_list) {
    const auto r = s::select_tlsrpt_record(
        {"v=TLSRPTv1; rua=mailto:tls%2Breports@example.net , https://reporting.example.net/v1?d=1,ftp://x.example/"});
    BOOST_REQUIRE(r.status == record_status::ok);
    BOOST_REQUIRE(r.rua.size() == 2u);
    BOOST_TEST(r.rua[0].how == s::report_destination::kind::mailto);
    BOOST_TEST(r.rua[0].address == "tls+reports@example.net");
    BOOST_TEST(s::to_string(r.rua[0]) == "mailto:tls+reports@example.net");
    BOOST_TEST(r.rua[1].how == s::report_destination::kind::https);
    BOOST_TEST(r.rua[1].url.host == "reporting.example.net");
    BOOST_TEST(r.rua[1].url.target == "/v1?d=1");
    BOOST_TEST(r.skipped == 1u);

    const auto only_other = s::select_tlsrpt_record({"v=TLSRPTv1; rua=tel:+1-555-0100"});
    BOOST_TEST(only_other.status == record_status::ok);
    BOOST_TEST(only_other.rua.empty());
    const auto http = s::select_tlsrpt_record({"v=TLSRPTv1; rua=http://r.example/"});  // not https: skipped
    BOOST_TEST(http.status == record_status::ok);
    BOOST_TEST(http.rua.empty());
    BOOST_TEST(http.skipped == 1u);
}

BOOST_AUTO_TEST_CASE(tlsrpt_selection_and_invalid) {
    BOOST_TEST(rpt_status({"v=STSv1; id=1"}) == record_status::none);
    BOOST_TEST(rpt_status({"v=TLSRPTv1; rua=mailto:a@b.example", "v=TLSRPTv1; rua=mailto:c@b.example"}) ==
               record_status::multiple);
    for (const char* bad :
         {"v=TLSRPTv1;", "v=TLSRPTv1; ext=1", "v=TLSRPTv1; rua=", "v=TLSRPTv1; rua=mailto:a@b.example; rua=mailto:c@d.example",
          "v=TLSRPTv1; rua=mailto:a@b.example,", "v=TLSRPTv1; rua=,mailto:a@b.example", "v=TLSRPTv1; rua=mailto:",
          "v=TLSRPTv1; rua=mailto:nobody", "v=TLSRPTv1; rua=mailto:a@b.example?subject=x",
          "v=TLSRPTv1; rua=mailto:a@[192.0.2.1]", "v=TLSRPTv1; rua=mailto:a@b.example!10m",
          "v=TLSRPTv1; rua=https://user@r.example/", "v=TLSRPTv1; rua=1x:y",
          "v=TLSRPTv1; rua=mailto:a%zz@b.example", "v=TLSRPTv1; rua=mailto:a@b.example x"})
        BOOST_TEST(rpt_status({bad}) == record_status::invalid, bad);

    std::string many = "v=TLSRPTv1; rua=mailto:a@b.example";
    for (std::size_t i = 0; i < s::max_report_destinations; ++i) many += ",mailto:a" + std::to_string(i) + "@b.example";
    BOOST_TEST(rpt_status({many}) == record_status::invalid);
}
