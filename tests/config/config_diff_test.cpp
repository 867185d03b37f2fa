// config_diff_test — `check-config -n` (only what differs from the defaults)
// and `check-config --diff` / the reload log (what changes, and what needs a
// restart): docs/design.md §7.
#include "config/config_diff.hpp"
#include "config/emitter.hpp"
#include "config/loader.hpp"
#include "tests/config/temp_tree.hpp"

#include <boost/test/unit_test.hpp>

#include <yaml-cpp/yaml.h>

#include <string>

using namespace dsproxy::config;
using dsproxy::config::test::all_errors;
using dsproxy::config::test::minimal_main;
using dsproxy::config::test::temp_tree;

namespace {

config load_text(temp_tree& tree, std::string_view text) {
    tree.write("dsproxy.yaml", text);
    auto result = tree.load();
    BOOST_TEST_REQUIRE(result.ok(), all_errors(result));
    return *result.value;
}

const setting_change* find(const std::vector<setting_change>& changes, const std::string& path) {
    for (const auto& c : changes)
        if (c.path == path) return &c;
    return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_diff)

BOOST_AUTO_TEST_CASE(non_default_shows_what_the_files_set_and_nothing_else) {
    temp_tree tree;
    const auto cfg = load_text(tree, std::string(minimal_main) + R"(limits:
  max_connections: 2000
  message_size: 50MiB
policies:
  contoso.com:
    level: domain-secure
  fabrikam.com:
    level: opportunistic
)");
    const auto out = YAML::Load(non_default_yaml(cfg));
    BOOST_TEST(out["limits"]["max_connections"].as<int>() == 2000);
    BOOST_TEST(!out["limits"]["message_size"]);  // set, but to the default
    BOOST_TEST(!out["limits"]["max_recipients"]);
    BOOST_TEST(!out["timeouts"]);
    BOOST_TEST(!out["logging"]);
    // The listener: what it sets, not the defaults of a listener.
    BOOST_TEST(out["listeners"]["in"]["fqdn"].as<std::string>() == "mx.example.com");
    BOOST_TEST(out["listeners"]["in"]["upstream"].as<std::string>() == "backend");
    BOOST_TEST(!out["listeners"]["in"]["role"]);
    BOOST_TEST(!out["listeners"]["in"]["tls"]);
    BOOST_TEST(out["upstreams"]["backend"]["hosts"].size() == 1u);
    // Policy entries are named: each is shown, with only what it sets.
    BOOST_TEST(out["policies"]["contoso.com"]["level"].as<std::string>() == "domain-secure");
    BOOST_TEST(!out["policies"]["contoso.com"]["on_failure"]);
    // An entry that sets only what a default entry has: still there, as {}.
    BOOST_TEST(out["policies"]["fabrikam.com"].IsMap());
    BOOST_TEST(out["policies"]["fabrikam.com"].size() == 0u);
    BOOST_TEST(!out["policies"]["default"]);
    BOOST_TEST(out["accepted_domains"][0].as<std::string>() == "example.com");
}

BOOST_AUTO_TEST_CASE(changes_name_each_setting_and_mark_what_needs_a_restart) {
    temp_tree a, b;
    const auto before = load_text(a, std::string(minimal_main) + "limits: {max_connections: 10}\n");
    auto text = std::string(minimal_main);
    text.replace(text.find("127.0.0.1:2525"), 14, "127.0.0.1:2527");
    const auto after = load_text(b, text + "limits: {max_connections: 20}\nprocess: {io_threads: 3}\n"
                                           "policies: {contoso.com: {level: encrypt}}\n");
    const auto c = changes(to_yaml(before), to_yaml(after));
    const auto* limit = find(c, "limits.max_connections");
    BOOST_TEST_REQUIRE(limit);
    BOOST_TEST(limit->before == "10");
    BOOST_TEST(limit->after == "20");
    BOOST_TEST(!limit->restart);
    const auto* listen = find(c, "listeners.in.listen");
    BOOST_TEST_REQUIRE(listen);
    BOOST_TEST(listen->before == "[127.0.0.1:2525]");
    BOOST_TEST(listen->after == "[127.0.0.1:2527]");
    BOOST_TEST(listen->restart);
    const auto* threads = find(c, "process.io_threads");
    BOOST_TEST_REQUIRE(threads);
    BOOST_TEST(threads->restart);
    const auto* policy = find(c, "policies.contoso.com.level");
    BOOST_TEST_REQUIRE(policy);
    BOOST_TEST(policy->before.empty());
    BOOST_TEST(policy->after == "encrypt");
    BOOST_TEST(!policy->restart);
    BOOST_TEST(!find(c, "limits.max_recipients"));
    // The other way round, the policy entry is gone.
    const auto back = changes(to_yaml(after), to_yaml(before));
    const auto* gone = find(back, "policies.contoso.com.level");
    BOOST_TEST_REQUIRE(gone);
    BOOST_TEST(gone->after.empty());
    BOOST_TEST(changes(to_yaml(before), to_yaml(before)).empty());
}

BOOST_AUTO_TEST_CASE(what_a_reload_cannot_apply) {
    BOOST_TEST(read_at_start_only("process.user"));
    BOOST_TEST(read_at_start_only("logging.target"));
    BOOST_TEST(read_at_start_only("metrics.listen"));
    BOOST_TEST(read_at_start_only("listeners.edge.listen"));
    BOOST_TEST(!read_at_start_only("listeners.edge.fqdn"));
    BOOST_TEST(!read_at_start_only("process.running_config"));
    BOOST_TEST(!read_at_start_only("outbound.dns_servers"));
    BOOST_TEST(!read_at_start_only("limits.max_connections"));
}

BOOST_AUTO_TEST_CASE(a_running_file_that_is_not_yaml_is_an_error_not_a_crash) {
    BOOST_CHECK_THROW(changes("listeners: [unclosed", "{}"), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
