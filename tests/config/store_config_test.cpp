// `store` and `tls_reporting` (docs/design.md §6.4): values, defaults and errors.
#include "config/emitter.hpp"
#include "config/loader.hpp"
#include "tests/config/temp_tree.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::config;
using dsproxy::config::test::all_errors;
using dsproxy::config::test::has_error;
using dsproxy::config::test::minimal_main;
using dsproxy::config::test::temp_tree;

namespace {

load_result load_with(temp_tree& tree, std::string_view extra) {
    tree.write("dsproxy.yaml", std::string(minimal_main) + std::string(extra));
    return tree.load();
}

constexpr int base = 10;  // minimal_main's lines

}  // namespace

BOOST_AUTO_TEST_SUITE(store_config)

BOOST_AUTO_TEST_CASE(defaults_sqlite_in_the_state_directory_and_no_reporting) {
    temp_tree tree;
    const auto r = load_with(tree, "");
    BOOST_REQUIRE_MESSAGE(r.ok(), all_errors(r));
    BOOST_TEST(!r.value->store.path.has_value());
    BOOST_TEST(!r.value->store.redis.has_value());
    BOOST_TEST(r.value->store.timeout.count() == 2000);
    BOOST_TEST(!r.value->reporting.has_value());
}

BOOST_AUTO_TEST_CASE(sqlite_path_and_redis_url) {
    temp_tree tree;
    auto r = load_with(tree, "store:\n  path: var/policy.db\n  timeout: 5s\n");
    BOOST_REQUIRE_MESSAGE(r.ok(), all_errors(r));
    BOOST_TEST(*r.value->store.path == (tree.root() / "var/policy.db").string());
    BOOST_TEST(r.value->store.timeout.count() == 5000);
    r = load_with(tree, "store: {redis: \"redis://10.0.0.5:6380/3\"}\n");
    BOOST_REQUIRE_MESSAGE(r.ok(), all_errors(r));
    BOOST_TEST((*r.value->store.redis == redis_address{"10.0.0.5", 6380, 3}));
    r = load_with(tree, "store: {redis: \"redis://cache.example.net\"}\n");
    BOOST_REQUIRE_MESSAGE(r.ok(), all_errors(r));
    BOOST_TEST((*r.value->store.redis == redis_address{"cache.example.net", 6379, 0}));
    BOOST_TEST(to_yaml(*r.value).find("redis: redis://cache.example.net:6379/0") != std::string::npos);
    // The effective configuration loads back to the same store.
    tree.write("printed.yaml", to_yaml(*r.value));
    const auto again = tree.load("printed.yaml");
    BOOST_REQUIRE_MESSAGE(again.ok(), all_errors(again));
    BOOST_TEST((*again.value->store.redis == *r.value->store.redis));
}

BOOST_AUTO_TEST_CASE(store_errors) {
    temp_tree tree;
    auto r = load_with(tree, "store:\n  path: a.db\n  redis: redis://127.0.0.1\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 3, "`store` takes `path` (SQLite) or `redis` (shared by a fleet), not both"),
               all_errors(r));
    r = load_with(tree, "store:\n  redis: http://127.0.0.1\n");
    BOOST_TEST(!r.ok());
    BOOST_TEST(all_errors(r).find("expected `redis://host:port/db`") != std::string::npos, all_errors(r));
    r = load_with(tree, "store:\n  redis: redis://127.0.0.1:6379/16\n");
    BOOST_TEST(all_errors(r).find("must be a number from 0 to 15") != std::string::npos, all_errors(r));
    r = load_with(tree, "store:\n  pth: a.db\n");
    BOOST_TEST(all_errors(r).find("unknown key `pth` in store, did you mean `path`?") != std::string::npos, all_errors(r));
}

BOOST_AUTO_TEST_CASE(tls_reporting_needs_organization_contact_and_from) {
    temp_tree tree;
    auto r = load_with(tree, "tls_reporting:\n  organization: Example Ltd\n  contact: tlsrpt@example.com\n"
                             "  from: noreply-tlsrpt@Example.COM\n  submitter: mta.example.com\n");
    BOOST_REQUIRE_MESSAGE(r.ok(), all_errors(r));
    BOOST_TEST(r.value->reporting->organization == "Example Ltd");
    BOOST_TEST(r.value->reporting->from == "noreply-tlsrpt@example.com");
    BOOST_TEST(*r.value->reporting->submitter == "mta.example.com");
    BOOST_TEST(to_yaml(*r.value).find("organization: Example Ltd") != std::string::npos);
    r = load_with(tree, "tls_reporting:\n  organization: Example Ltd\n");
    BOOST_TEST(!r.ok());
    BOOST_TEST(all_errors(r).find("`contact`") != std::string::npos, all_errors(r));
    BOOST_TEST(all_errors(r).find("`from`") != std::string::npos, all_errors(r));
    r = load_with(tree, "tls_reporting: {organization: X, contact: c, from: not-an-address}\n");
    BOOST_TEST(all_errors(r).find("expected a mail address") != std::string::npos, all_errors(r));
}

BOOST_AUTO_TEST_SUITE_END()
