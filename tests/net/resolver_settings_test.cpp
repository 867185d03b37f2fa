// resolver_settings_test — the start-up and reload check of the DNS
// settings (docs/design.md §6.4, check-config): a trust anchor that is missing,
// unreadable or not a DS/DNSKEY record is named; a well-formed one, the
// root's own (dns-root-data) and "no anchors" pass; a server that is not an
// IP address is refused. No query is sent (the check answers from
// libunbound's built-in localhost zone).
#include "proxy/net/dns_resolver.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace dsproxy::net;

namespace {

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        char name[] = "/tmp/dsproxy-resolver-test-XXXXXX";
        path = ::mkdtemp(name);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& file, const std::string& text) const {
        std::ofstream(path / file) << text;
        return (path / file).string();
    }
};

resolver_settings with_anchors(std::vector<std::string> anchors) {
    resolver_settings s;
    s.servers = {"127.0.0.1:5353"};
    s.trust_anchors = std::move(anchors);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resolver_settings_check)

BOOST_AUTO_TEST_CASE(good_anchors_pass) {
    temp_dir d;
    const auto ds = d.write("dane.test.ds",
                            "dane.test.\tIN\tDS\t54015 13 2 "
                            "bc94ea94210731a453623dd9e5ec20195b0d31fb40139bb5411af56156447ed0\n");
    BOOST_TEST(!check_resolver_settings(with_anchors({ds})).has_value());
    BOOST_TEST(!check_resolver_settings(with_anchors({})).has_value());
    if (std::filesystem::exists(default_root_anchor))
        BOOST_TEST(!check_resolver_settings(with_anchors({default_root_anchor})).has_value());
}

BOOST_AUTO_TEST_CASE(missing_and_malformed_anchors_are_named) {
    temp_dir d;
    const auto missing = (d.path / "nope.key").string();
    const auto problem = check_resolver_settings(with_anchors({missing}));
    BOOST_TEST_REQUIRE(problem.has_value());
    BOOST_TEST(problem->find(missing) != std::string::npos, *problem);
    BOOST_TEST(problem->find("cannot be read") != std::string::npos, *problem);

    const auto garbage = d.write("garbage.key", "this is not a DS record\n");
    const auto bad = check_resolver_settings(with_anchors({garbage}));
    BOOST_TEST_REQUIRE(bad.has_value());
    BOOST_TEST(bad->find("trust anchors do not load") != std::string::npos, *bad);
}

BOOST_AUTO_TEST_CASE(unreadable_anchor_is_named) {
    if (::geteuid() == 0) return;  // root reads a mode-000 file anyway
    temp_dir d;
    const auto file = d.write("locked.key", "x\n");
    std::filesystem::permissions(file, std::filesystem::perms::none);
    const auto problem = check_resolver_settings(with_anchors({file}));
    BOOST_TEST_REQUIRE(problem.has_value());
    BOOST_TEST(problem->find("cannot be read") != std::string::npos, *problem);
}

BOOST_AUTO_TEST_CASE(servers_must_be_ip_addresses) {
    for (const std::string bad : {"ns1.example.com", "::1:53", "127.0.0.1:0", "127.0.0.1:99999", "[::1"}) {
        resolver_settings s = with_anchors({});
        s.servers = {bad};
        const auto problem = check_resolver_settings(s);
        BOOST_TEST_REQUIRE(problem.has_value(), bad);
        BOOST_TEST(problem->find("invalid DNS server") != std::string::npos, *problem);
    }
    resolver_settings good = with_anchors({});
    good.servers = {"127.0.0.1", "[::1]:5353", "192.0.2.1:53"};
    BOOST_TEST(!check_resolver_settings(good).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
