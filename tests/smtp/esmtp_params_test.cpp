// Tests for esmtp_params: every keyword, xtext, duplicates, unknown keywords.
#include "proxy/smtp/esmtp_params.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace dsproxy::smtp;

namespace {
param_error mail(std::string_view t) {
    mail_parameters p;
    return parse_mail_parameters(t, p).error;
}
param_error rcpt(std::string_view t) {
    rcpt_parameters p;
    return parse_rcpt_parameters(t, p).error;
}
int e(param_error x) { return static_cast<int>(x); }
}  // namespace

BOOST_AUTO_TEST_SUITE(esmtp_params_tests)

BOOST_AUTO_TEST_CASE(all_mail_parameters_round_trip) {
    mail_parameters p;
    const auto r = parse_mail_parameters(" size=1000 BODY=8bitmime SMTPUTF8 RET=HDRS ENVID=abc+2Bdef AUTH=<>", p);
    BOOST_TEST_REQUIRE(e(r.error) == e(param_error::none));
    BOOST_TEST(*p.size == 1000u);
    BOOST_TEST(p.smtputf8);
    BOOST_TEST(*p.auth == "<>");
    BOOST_TEST(p.to_wire() == " SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc+2Bdef");
}

BOOST_AUTO_TEST_CASE(mail_parameter_errors) {
    BOOST_TEST(e(mail("")) == e(param_error::none));
    BOOST_TEST(e(mail(" FOO=1")) == e(param_error::unknown));
    BOOST_TEST(e(mail(" SIZE=1 SIZE=2")) == e(param_error::duplicate));
    BOOST_TEST(e(mail(" SIZE=abc")) == e(param_error::bad_value));
    BOOST_TEST(e(mail(" SIZE=99999999999999999999")) == e(param_error::bad_value));  // > 2^64
    BOOST_TEST(e(mail(" SIZE=123456789012345678901")) == e(param_error::bad_value));  // 21 digits
    BOOST_TEST(e(mail(" BODY=9BIT")) == e(param_error::bad_value));
    BOOST_TEST(e(mail(" SMTPUTF8=yes")) == e(param_error::bad_value));
    BOOST_TEST(e(mail(" RET=ALL")) == e(param_error::bad_value));
    BOOST_TEST(e(mail(" ENVID=a+2b")) == e(param_error::bad_value));     // lower-case hex
    BOOST_TEST(e(mail(" ENVID=a+2")) == e(param_error::bad_value));      // truncated
    BOOST_TEST(e(mail(" ENVID=" + std::string(100, 'x'))) == e(param_error::none));
    BOOST_TEST(e(mail(" ENVID=" + std::string(101, 'x'))) == e(param_error::bad_value));
    BOOST_TEST(e(mail("SIZE=1")) == e(param_error::syntax));             // no leading space
    BOOST_TEST(e(mail(" =1")) == e(param_error::syntax));
    BOOST_TEST(e(mail(" SIZE=")) == e(param_error::syntax));
    BOOST_TEST(e(mail(" -X")) == e(param_error::syntax));
}

BOOST_AUTO_TEST_CASE(rcpt_parameters_and_errors) {
    rcpt_parameters p;
    BOOST_TEST(e(parse_rcpt_parameters(" NOTIFY=failure,DELAY ORCPT=rfc822;user+40example.com", p).error) ==
               e(param_error::none));
    BOOST_TEST(p.to_wire() == " NOTIFY=FAILURE,DELAY ORCPT=rfc822;user+40example.com");
    BOOST_TEST(e(rcpt(" NOTIFY=NEVER,SUCCESS")) == e(param_error::bad_value));
    BOOST_TEST(e(rcpt(" NOTIFY=SUCCESS,SUCCESS")) == e(param_error::bad_value));
    BOOST_TEST(e(rcpt(" NOTIFY=SOMETIMES")) == e(param_error::bad_value));
    BOOST_TEST(e(rcpt(" ORCPT=rfc822")) == e(param_error::bad_value));
    BOOST_TEST(e(rcpt(" ORCPT=rfc822;" + std::string(493, 'a'))) == e(param_error::none));       // 500 octets
    BOOST_TEST(e(rcpt(" ORCPT=rfc822;" + std::string(494, 'a'))) == e(param_error::bad_value));  // 501
    BOOST_TEST(e(rcpt(" ORCPT=utf-8;j\xc3\xb6rg@example.com")) == e(param_error::none));
    BOOST_TEST(e(rcpt(" SIZE=1")) == e(param_error::unknown));
}

BOOST_AUTO_TEST_CASE(xtext_encoding) {
    BOOST_TEST(encode_xtext("a b+c=") == "a+20b+2Bc+3D");
    BOOST_TEST(valid_xtext(encode_xtext(std::string("\x01\xff zz", 5))));
}

BOOST_AUTO_TEST_SUITE_END()
