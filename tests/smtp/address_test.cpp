// Tests for address: RFC 5321 paths, source routes, literals, UTF-8, routing operators.
#include "proxy/smtp/address.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace dsproxy::smtp;

namespace {
path_parse fwd(std::string_view t) { return parse_path(t, path_kind::forward); }
bool ok(const path_parse& p) { return p.error == path_error::none; }
}  // namespace

BOOST_AUTO_TEST_SUITE(address_tests)

BOOST_AUTO_TEST_CASE(plain_mailbox_and_rest) {
    auto p = fwd("<user@example.com> NOTIFY=NEVER");
    BOOST_TEST_REQUIRE(ok(p));
    BOOST_TEST(p.value.box.local_part == "user");
    BOOST_TEST(p.value.box.domain == "example.com");
    BOOST_TEST(p.rest == " NOTIFY=NEVER");
    BOOST_TEST(p.value.to_wire() == "<user@example.com>");
}

BOOST_AUTO_TEST_CASE(null_reverse_path_only_for_mail) {
    BOOST_TEST(parse_path("<>", path_kind::reverse).value.null);
    BOOST_TEST(!ok(fwd("<>")));
}

BOOST_AUTO_TEST_CASE(source_route_is_stripped) {
    auto p = fwd("<@relay.one,@relay.two:user@example.com>");
    BOOST_TEST_REQUIRE(ok(p));
    BOOST_TEST(p.value.had_source_route);
    BOOST_TEST(p.value.box.domain == "example.com");
    BOOST_TEST(p.value.to_wire() == "<user@example.com>");
    BOOST_TEST(!ok(fwd("<@relay.one user@example.com>")));
    BOOST_TEST(!ok(fwd("<@:user@example.com>")));
}

BOOST_AUTO_TEST_CASE(quoted_local_part_with_at_sign_keeps_the_last_domain) {
    auto p = fwd("<\"victim@other.example\"@example.com>");
    BOOST_TEST_REQUIRE(ok(p));
    BOOST_TEST(p.value.box.quoted);
    BOOST_TEST(p.value.box.domain == "example.com");
    BOOST_TEST(has_routing_operators(p.value.box));
    auto q = fwd("<\"a\\\"b c\"@example.com>");
    BOOST_TEST(ok(q));
    BOOST_TEST(!ok(fwd("<\"unterminated@example.com>")));
}

BOOST_AUTO_TEST_CASE(percent_and_bang_are_routing_operators) {
    BOOST_TEST(has_routing_operators(fwd("<user%other.example@example.com>").value.box));
    BOOST_TEST(has_routing_operators(fwd("<other.example!user@example.com>").value.box));
    BOOST_TEST(!has_routing_operators(fwd("<first.last+tag@example.com>").value.box));
}

BOOST_AUTO_TEST_CASE(address_literals) {
    BOOST_TEST(ok(fwd("<u@[192.0.2.1]>")));
    BOOST_TEST(fwd("<u@[192.0.2.1]>").value.box.address_literal);
    BOOST_TEST(ok(fwd("<u@[IPv6:2001:db8::1]>")));
    BOOST_TEST(ok(fwd("<u@[IPv6:::ffff:192.0.2.1]>")));
    BOOST_TEST(ok(fwd("<u@[IPv6:2001:db8:0:0:0:0:0:1]>")));
    BOOST_TEST(!ok(fwd("<u@[IPv6:2001:db8::1::2]>")));
    BOOST_TEST(!ok(fwd("<u@[192.0.2.256]>")));
    BOOST_TEST(!ok(fwd("<u@[192.0.2]>")));
    BOOST_TEST(!ok(fwd("<u@[IPv6:1:2:3:4:5:6:7]>")));
}

BOOST_AUTO_TEST_CASE(bad_syntax) {
    for (const char* t : {"user@example.com", "<user@example.com", "<user@>", "<@example.com>", "<a..b@example.com>",
                          "<.a@example.com>", "<a@-example.com>", "<a@example..com>", "<a b@example.com>",
                          "<a@example.com >", "<user>"})
        BOOST_TEST(!ok(fwd(t)), t);
}

BOOST_AUTO_TEST_CASE(postmaster_without_domain_is_a_forward_path) {
    BOOST_TEST(ok(fwd("<Postmaster>")));
    BOOST_TEST(!ok(parse_path("<postmaster>", path_kind::reverse)));
}

BOOST_AUTO_TEST_CASE(utf8_addresses_are_flagged_and_validated) {
    auto p = fwd("<j\xc3\xb6rg@b\xc3\xbc" "cher.example>");
    BOOST_TEST_REQUIRE(ok(p));
    BOOST_TEST(p.value.box.non_ascii);
    BOOST_TEST(!ok(fwd("<j\xc3rg@example.com>")));        // truncated sequence
    BOOST_TEST(!ok(fwd("<j\xc0\xafrg@example.com>")));    // overlong
    BOOST_TEST(!ok(fwd("<j\xed\xa0\x80rg@example.com>"))); // surrogate
}

BOOST_AUTO_TEST_CASE(path_limit_is_enforced) {
    const std::string local(64, 'a');
    const std::string domain = std::string(63, 'b') + '.' + std::string(63, 'c') + '.' + std::string(61, 'd');
    const std::string at_limit = '<' + local + '@' + domain + '>';  // 256 octets
    BOOST_TEST_REQUIRE(at_limit.size() == 256u);
    BOOST_TEST(ok(fwd(at_limit)));
    const std::string over = '<' + local + "a@" + domain + '>';
    BOOST_TEST(static_cast<int>(fwd(over).error) == static_cast<int>(path_error::too_long));
    BOOST_TEST(static_cast<int>(parse_path(at_limit, path_kind::forward, 100).error) ==
               static_cast<int>(path_error::too_long));
}

BOOST_AUTO_TEST_SUITE_END()
