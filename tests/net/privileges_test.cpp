// privileges_test — who `dsproxy run` runs as (issue 8): root switches to
// process.user, root without it is refused unless allowed, a user that is
// root is no switch, an unprivileged start ignores a `user` naming someone
// else; accounts are looked up by name (root and nobody exist everywhere).
// The switch itself (setuid) is tested end to end by integration/privileges_test.py.
#include "proxy/net/privileges.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::net;

BOOST_AUTO_TEST_SUITE(privileges)

namespace {
account named(std::string user, uid_t uid) { return {std::move(user), "g", uid, uid}; }
}  // namespace

BOOST_AUTO_TEST_CASE(root_switches_to_the_configured_user) {
    const auto d = decide(0, named("dsproxy", 998), false);
    BOOST_TEST((d.action == privilege_action::switch_user));
    BOOST_TEST((decide(0, named("dsproxy", 998), true).action == privilege_action::switch_user));
}

BOOST_AUTO_TEST_CASE(root_without_user_is_refused_unless_allowed) {
    const auto d = decide(0, std::nullopt, false);
    BOOST_TEST((d.action == privilege_action::refuse));
    BOOST_TEST(d.message.find("refusing to run as root") != std::string::npos, d.message);
    BOOST_TEST(d.message.find("process.user") != std::string::npos, d.message);
    BOOST_TEST(d.message.find("allow_root") != std::string::npos, d.message);
    BOOST_TEST((decide(0, std::nullopt, true).action == privilege_action::keep_as_root));
}

BOOST_AUTO_TEST_CASE(a_user_that_is_root_is_no_switch) {
    const auto d = decide(0, named("toor", 0), false);
    BOOST_TEST((d.action == privilege_action::refuse));
    BOOST_TEST(d.message.find("toor is root") != std::string::npos, d.message);
    BOOST_TEST((decide(0, named("toor", 0), true).action == privilege_action::keep_as_root));
}

BOOST_AUTO_TEST_CASE(unprivileged_start) {
    BOOST_TEST((decide(1000, std::nullopt, false).action == privilege_action::keep));
    BOOST_TEST((decide(998, named("dsproxy", 998), false).action == privilege_action::keep));
    const auto d = decide(1000, named("dsproxy", 998), false);
    BOOST_TEST((d.action == privilege_action::ignore_user));
    BOOST_TEST(d.message.find("not started as root") != std::string::npos, d.message);
}

BOOST_AUTO_TEST_CASE(accounts_by_name) {
    std::string error;
    const auto root = find_account("root", std::nullopt, error);
    BOOST_TEST_REQUIRE(root.has_value(), error);
    BOOST_TEST(root->uid == 0u);
    BOOST_TEST(root->group == "root");
    const auto nobody = find_account("nobody", std::string("root"), error);
    BOOST_TEST_REQUIRE(nobody.has_value(), error);
    BOOST_TEST(nobody->uid != 0u);
    BOOST_TEST(nobody->gid == 0u);  // the group given, not the primary one
    BOOST_TEST(!find_account("no-such-user-dsproxy", std::nullopt, error));
    BOOST_TEST(error.find("user `no-such-user-dsproxy` does not exist") != std::string::npos, error);
    BOOST_TEST(!find_account("root", std::string("no-such-group-dsproxy"), error));
    BOOST_TEST(error.find("group `no-such-group-dsproxy` does not exist") != std::string::npos, error);
}

BOOST_AUTO_TEST_SUITE_END()
