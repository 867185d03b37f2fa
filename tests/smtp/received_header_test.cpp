// Tests for received_header: format, TLS facts, sanitising client text, date.
#include "proxy/smtp/received_header.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::smtp;

BOOST_AUTO_TEST_SUITE(received_header_tests)

BOOST_AUTO_TEST_CASE(date_is_rfc5322_utc) {
    using namespace std::chrono;
    const sys_days d = year{2024} / January / 2;
    BOOST_TEST(rfc5322_date(d + hours{3} + minutes{4} + seconds{5}) == "Tue, 2 Jan 2024 03:04:05 +0000");
}

BOOST_AUTO_TEST_CASE(header_with_tls_and_domain_security) {
    using namespace std::chrono;
    received_info i;
    i.client_helo = "mail.fabrikam.com";
    i.client_address = "192.0.2.7";
    i.listener_fqdn = "mx.contoso.com";
    i.session_id = "abc123";
    i.tls = tls_facts{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, true, true};
    i.domain_secured = true;
    i.single_recipient = "<a@contoso.com>";
    i.when = sys_days{year{2024} / January / 2};
    const auto h = build_received_header(i);
    BOOST_TEST(h ==
               "Received: from mail.fabrikam.com (unknown [192.0.2.7])\r\n"
               "\tby mx.contoso.com (dsproxy) with ESMTPS id abc123\r\n"
               "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256 bits);\r\n"
               "\t client certificate verified; domain-secured)\r\n"
               "\tfor <a@contoso.com>; Tue, 2 Jan 2024 00:00:00 +0000\r\n");
}

BOOST_AUTO_TEST_CASE(client_text_cannot_inject_lines) {
    received_info i;
    i.client_helo = "evil\r\nX-Injected: yes (x)";
    i.client_address = "192.0.2.7";
    i.esmtp = false;
    const auto h = build_received_header(i);
    BOOST_TEST(h.find("\r\nX-Injected") == std::string::npos);
    BOOST_TEST(h.find("evil??X-Injected:?yes??x?") != std::string::npos);
    BOOST_TEST(h.find("with SMTP id") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
