// Loading valid configurations: every section read into the model, defaults
// filled in, include directories merged in lexical order, relative paths
// resolved against the file, the shipped conf.d, and check-config's output
// loading back to the same configuration.
#include "config/emitter.hpp"
#include "config/loader.hpp"
#include "tests/config/temp_tree.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

using namespace dsproxy::config;
using namespace std::chrono_literals;
using dsproxy::config::test::all_errors;
using dsproxy::config::test::minimal_main;
using dsproxy::config::test::temp_tree;

BOOST_AUTO_TEST_SUITE(loading)

BOOST_AUTO_TEST_CASE(minimal_config_gets_every_default) {
    temp_tree tree;
    tree.write("dsproxy.yaml", minimal_main);
    const auto result = tree.load();
    BOOST_TEST_REQUIRE(result.ok(), all_errors(result));
    const config& c = *result.value;
    BOOST_TEST(c.limit.command_line_length == 512u);
    BOOST_TEST(c.limit.text_line_length == 1000u);
    BOOST_TEST(c.limit.max_recipients == 100u);
    BOOST_TEST(c.limit.reply_line_length == 512u);
    BOOST_TEST(c.limit.reply_lines == 100u);
    BOOST_TEST(c.limit.pipelined_input == 64u << 10);
    BOOST_TEST((c.limit.data_bare_lf == bare_lf_action::reject));
    BOOST_TEST((c.timeout.upstream.greeting == 5min));
    BOOST_TEST((c.timeout.upstream.data_init == 2min));
    BOOST_TEST((c.timeout.upstream.data_block == 3min));
    BOOST_TEST((c.timeout.upstream.data_final == 10min));
    BOOST_TEST((c.timeout.client.command == 5min));
    BOOST_TEST((c.log.level == log_level::info));
    BOOST_TEST(!c.metric.listen.has_value());
    BOOST_TEST(c.process.io_threads == 0u);  // auto: one per core
    BOOST_TEST(!c.process.user.has_value());
    BOOST_TEST(!c.process.group.has_value());
    BOOST_TEST(!c.process.allow_root);
    BOOST_TEST(c.outbound.dns_servers.empty());  // /etc/resolv.conf
    BOOST_TEST((c.outbound.dns_timeout == 5s));
    BOOST_TEST(c.outbound.dns_tries == 2u);
    BOOST_TEST(c.outbound.mx_port == 25);
    BOOST_TEST(c.outbound.max_mx_hosts == 5u);
    BOOST_TEST(c.outbound.max_addresses_per_host == 4u);
    BOOST_TEST((c.outbound.order == address_order::ipv6_first));
    BOOST_TEST((c.policies.fallback().level == tls_level::opportunistic));
    BOOST_TEST_REQUIRE(c.listeners.size() == 1u);
    BOOST_TEST((c.listeners[0].tls == listener_tls::starttls));
    BOOST_TEST((c.listeners[0].fallback == certificate_fallback::none));
    BOOST_TEST((c.listeners[0].without_certificate == listener_without_certificate::refuse));
    BOOST_TEST(c.accepts("example.com"));
    BOOST_TEST(!c.accepts("example.net"));
}

BOOST_AUTO_TEST_CASE(every_section_is_read) {
    temp_tree tree;
    tree.write("ca/partner.pem", "placeholder\n");
    tree.write("ca/partner.crl", "placeholder\n");
    tree.write("dns/test.key", "placeholder\n");
    tree.write("certs/mail.pem", "placeholder\n");
    tree.write("certs/mail.key", "placeholder\n");
    tree.write("certs/tickets.key", "placeholder\n");
    tree.mkdir("ca/dir");
    tree.write("dsproxy.yaml", R"(
logging: {level: debug, format: json, target: syslog}
metrics: {listen: "127.0.0.1:9325"}
process: {io_threads: 4, user: dsproxy, group: mail, allow_root: false}
limits:
  max_connections: 500
  max_connections_per_client: 5
  command_line_length: 1024
  text_line_length: 2000
  message_size: 10MiB
  max_recipients: 50
  max_bad_commands: 3
  reply_line_length: 2048
  reply_lines: 200
  pipelined_input: 1MiB
  greeting_delay: 2s
  min_data_rate: 1KiB
  data_bare_lf: normalize
timeouts:
  client: {command: 1m, data_block: 2m, tls_handshake: 10s}
  upstream: {connect: 5s, greeting: 1m, ehlo: 1m, mail: 1m, rcpt: 1m, data_init: 1m, data_block: 1m, data_final: 5m, tls_handshake: 15s}
  shutdown_drain: 500ms
listeners:
  edge:
    role: inbound
    listen: ["0.0.0.0:25", "[::]:25"]
    fqdn: Mail.Contoso.COM
    tls: starttls
    certificate: "A9993E364706816ABA3E25717850C26C9CD0D89D"
    fallback: any
    without_certificate: plain
    proxy_protocol: [10.0.0.0/8, "2001:db8::/32"]
    upstream: exchange
  smarthost:
    role: outbound
    listen: 127.0.0.1:587
    fqdn: mail.contoso.com
    tls: implicit
    allowed_clients: [192.0.2.0/24]
upstreams:
  exchange:
    hosts: [ex1.contoso.com, "ex2.contoso.com:2525"]
    xclient: true
    proxy_protocol: yes
    tls: {level: domain, tls_domain: contoso.com}
accepted_domains: [contoso.com, .contoso.com]
certificates:
  files: [certs/mail.pem, {certificate: certs/mail.pem, key: certs/mail.key, client_only: true}]
  directories: [certs, /var/lib/dsproxy/certs]
  auto_selfsigned: true
  allow_group_readable_keys: true
  ticket_key_file: certs/tickets.key
  tls13_tickets: 1
trust:
  system: false
  ca_file: ca/partner.pem
  ca_dir: ca/dir
  crl_files: ca/partner.crl
policies:
  default: {level: encrypt, on_failure: reject}
  fabrikam.com:
    level: domain-secure
    on_failure: reject
    mode: testing
    tls_domain: mail.fabrikam.com
    match_host: true
    min_tls: "1.3"
    ciphers: ECDHE-ECDSA-AES256-GCM-SHA384
    ca_file: ca/partner.pem
    crl: [ca/partner.crl]
    client_certificate: mail.contoso.com
    cn_fallback: always
    route: ["smtp.fabrikam.com", "[2001:db8::25]:2525"]
    dane: mandatory
    mta_sts: none
outbound:
  dns_servers: ["127.0.0.1:5353", "[::1]", 192.0.2.53]
  dns_timeout: 2s
  dns_tries: 3
  trust_anchors: [dns/test.key]
  mx_port: 2525
  max_mx_hosts: 2
  max_addresses_per_host: 1
  address_order: ipv4-only
)");
    const auto result = tree.load();
    BOOST_TEST_REQUIRE(result.ok(), all_errors(result));
    const config& c = *result.value;
    const auto root = tree.root().string();
    BOOST_TEST((c.log.format == log_format::json));
    BOOST_TEST((c.log.target == log_target::syslog));
    BOOST_TEST(c.metric.listen->port == 9325);
    BOOST_TEST(c.limit.message_size == 10u << 20);
    BOOST_TEST(c.limit.min_data_rate == 1024u);
    BOOST_TEST(c.limit.reply_line_length == 2048u);
    BOOST_TEST(c.limit.reply_lines == 200u);
    BOOST_TEST(c.limit.pipelined_input == 1u << 20);
    BOOST_TEST((c.limit.greeting_delay == 2s));
    BOOST_TEST((c.timeout.shutdown_drain == 500ms));
    BOOST_TEST((c.timeout.upstream.tls_handshake == 15s));

    BOOST_TEST_REQUIRE(c.listeners.size() == 2u);
    const auto& edge = c.listeners[0];
    BOOST_TEST(edge.name == "edge");
    BOOST_TEST(edge.fqdn == "mail.contoso.com");
    BOOST_TEST(edge.listen.size() == 2u);
    BOOST_TEST(to_string(edge.listen[1]) == "[::]:25");
    BOOST_TEST((edge.certificate->by == certificate_ref::kind::sha1));
    BOOST_TEST((edge.fallback == certificate_fallback::any));
    BOOST_TEST((edge.without_certificate == listener_without_certificate::plain));
    BOOST_TEST(edge.proxy_protocol.size() == 2u);
    const auto& out = c.listeners[1];
    BOOST_TEST((out.role == listener_role::outbound));
    BOOST_TEST((out.tls == listener_tls::implicit));
    BOOST_TEST(out.allowed_clients[0].contains(*parse_ip("192.0.2.77")));

    const auto* ex = c.find_upstream("exchange");
    BOOST_TEST_REQUIRE(ex != nullptr);
    BOOST_TEST(ex->hosts[0].port == 25);
    BOOST_TEST(ex->hosts[1].port == 2525);
    BOOST_TEST(ex->xclient);
    BOOST_TEST(ex->proxy_protocol);
    BOOST_TEST((ex->tls.level == tls_level::domain));

    BOOST_TEST(c.accepts("contoso.com"));
    BOOST_TEST(c.accepts("sub.contoso.com"));
    BOOST_TEST(c.certificates.files.size() == 2u);
    BOOST_TEST(c.certificates.files[1].key == root + "/certs/mail.key");
    BOOST_TEST(!c.certificates.files[0].client_only);
    BOOST_TEST(c.certificates.files[1].client_only);
    BOOST_TEST(c.certificates.directories[0] == root + "/certs");
    BOOST_TEST(c.certificates.directories[1] == "/var/lib/dsproxy/certs");
    BOOST_TEST(!c.trust_store.system);
    BOOST_TEST(*c.trust_store.ca_file == root + "/ca/partner.pem");
    BOOST_TEST(c.trust_store.crl_files.size() == 1u);

    BOOST_TEST((c.policies.fallback().on_failure == failure_action::reject));
    const auto& p = *c.policies.lookup("fabrikam.com").policy;
    BOOST_TEST((p.level == tls_level::domain_secure));
    BOOST_TEST((p.mode == policy_mode::testing));
    BOOST_TEST(*p.tls_domain == "mail.fabrikam.com");
    BOOST_TEST(p.match_host);
    BOOST_TEST((p.min_tls == tls_version::v1_3));
    BOOST_TEST(p.ciphers == "ECDHE-ECDSA-AES256-GCM-SHA384");
    BOOST_TEST(*p.ca_file == root + "/ca/partner.pem");
    BOOST_TEST((p.client_certificate->by == certificate_ref::kind::name));
    BOOST_TEST((p.cn_fallback == dsproxy::matching::cn_fallback::always));
    BOOST_TEST_REQUIRE(p.route.size() == 2u);
    BOOST_TEST(to_string(p.route[0]) == "smtp.fabrikam.com:25");
    BOOST_TEST(to_string(p.route[1]) == "[2001:db8::25]:2525");
    BOOST_TEST((p.dane == dsproxy::config::dane_mode::mandatory));
    BOOST_TEST((c.policies.fallback().dane == dsproxy::config::dane_mode::opportunistic));
    BOOST_TEST((p.mta_sts == mta_sts_mode::none));
    BOOST_TEST((c.policies.fallback().mta_sts == mta_sts_mode::opportunistic));
    BOOST_TEST(p.where.file == root + "/dsproxy.yaml");
    BOOST_TEST(p.where.line == 61);
    BOOST_TEST(*c.certificates.ticket_key_file == root + "/certs/tickets.key");
    BOOST_TEST(c.certificates.tls13_tickets == 1u);
    BOOST_TEST(c.process.io_threads == 4u);
    BOOST_TEST(*c.process.user == "dsproxy");
    BOOST_TEST(*c.process.group == "mail");

    const auto& o = c.outbound;
    BOOST_TEST_REQUIRE(o.dns_servers.size() == 3u);
    BOOST_TEST(to_string(o.dns_servers[0]) == "127.0.0.1:5353");
    BOOST_TEST(to_string(o.dns_servers[1]) == "[::1]:53");
    BOOST_TEST(to_string(o.dns_servers[2]) == "192.0.2.53:53");
    BOOST_TEST(o.dns_servers[1].ip.has_value());
    BOOST_TEST((o.dns_timeout == 2s));
    BOOST_TEST(o.dns_tries == 3u);
    BOOST_TEST_REQUIRE(o.trust_anchors.size() == 1u);
    BOOST_TEST(o.trust_anchors[0] == root + "/dns/test.key");
    BOOST_TEST(o.mx_port == 2525);
    BOOST_TEST(o.max_mx_hosts == 2u);
    BOOST_TEST(o.max_addresses_per_host == 1u);
    BOOST_TEST((o.order == address_order::ipv4_only));
}

BOOST_AUTO_TEST_CASE(included_directories_merge_in_lexical_order) {
    temp_tree tree;
    tree.write("dsproxy.yaml", std::string(minimal_main) + "include: [domains.d, more.d]\n");
    tree.write("domains.d/20-b.yaml", "policies:\n  b.example: {level: validate}\n");
    tree.write("domains.d/10-a.yaml", "policies:\n  a.example: {level: encrypt}\naccepted_domains: [a.example]\n");
    tree.write("domains.d/.hidden.yaml", "policies: {a.example: {level: none}}\n");  // skipped: hidden
    tree.write("domains.d/notes.txt", "not: [yaml\n");                               // skipped: not *.yaml
    tree.write("domains.d/empty.yaml", "# nothing here yet\n");
    tree.write("more.d/x.yaml", "policies:\n  default: {level: encrypt}\n");
    const auto result = tree.load();
    BOOST_TEST_REQUIRE(result.ok(), all_errors(result));
    const config& c = *result.value;
    const auto root = tree.root().string();
    const std::vector<std::string> expected{root + "/dsproxy.yaml", root + "/domains.d/10-a.yaml",
                                            root + "/domains.d/20-b.yaml", root + "/domains.d/empty.yaml",
                                            root + "/more.d/x.yaml"};
    BOOST_TEST(c.files == expected, boost::test_tools::per_element());
    BOOST_TEST((c.policies.lookup("a.example").policy->level == tls_level::encrypt));
    BOOST_TEST((c.policies.lookup("b.example").policy->level == tls_level::validate));
    BOOST_TEST((c.policies.fallback().level == tls_level::encrypt));
    BOOST_TEST(c.policies.fallback().where.file == root + "/more.d/x.yaml");
    BOOST_TEST(c.accepts("a.example"));
}

BOOST_AUTO_TEST_CASE(shipped_conf_d_loads_clean) {
    const auto result = load(std::string(DSPROXY_SOURCE_DIR) + "/conf.d/dsproxy.yaml");
    BOOST_TEST_REQUIRE(result.ok(), all_errors(result));
    const config& c = *result.value;
    BOOST_TEST_REQUIRE(c.listeners.size() == 1u);
    BOOST_TEST(to_string(c.listeners[0].listen[0]) == "127.0.0.1:2525");
    BOOST_TEST(c.listeners[0].fqdn == "localhost");
    BOOST_TEST((c.listeners[0].tls == listener_tls::starttls));
    BOOST_TEST(to_string(c.find_upstream(c.listeners[0].upstream)->hosts[0]) == "127.0.0.1:2526");
    BOOST_TEST(c.certificates.auto_selfsigned);
    BOOST_TEST((c.policies.fallback().level == tls_level::opportunistic));
    BOOST_TEST(c.files.size() >= 2u);  // domains.d/example.yaml was read
    BOOST_TEST(!c.policies.entries().empty());
}

BOOST_AUTO_TEST_CASE(effective_config_loads_back_to_the_same_config) {
    temp_tree tree;
    tree.write("dsproxy.yaml", std::string(minimal_main) + R"(
metrics: {listen: "[::1]:9325"}
process: {io_threads: 3, user: dsproxy, allow_root: yes}
limits: {message_size: 50MB, greeting_delay: 1500ms}
outbound: {dns_servers: ["[2001:db8::53]:5353", 127.0.0.1], dns_timeout: 1500ms, mx_port: 2526, address_order: ipv4-first}
policies:
  default: {level: encrypt}
  .Contoso.COM: {level: domain, tls_domain: contoso.com, route: [mx.contoso.com], min_tls: TLSv1.3}
  bücher.de: {level: domain-secure, client_certificate: "a9993e364706816aba3e25717850c26c9cd0d89d"}
)");
    const auto first = tree.load();
    BOOST_TEST_REQUIRE(first.ok(), all_errors(first));
    const auto printed = to_yaml(*first.value);
    tree.write("printed/dsproxy.yaml", printed);
    const auto second = tree.load("printed/dsproxy.yaml");
    BOOST_TEST_REQUIRE(second.ok(), all_errors(second) + printed);
    // Equal apart from the file names in the comments.
    const auto strip = [](std::string text) {
        std::string out;
        std::size_t start = 0;
        while (start < text.size()) {
            auto end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            auto line = text.substr(start, end - start);
            if (const auto hash = line.find("  #"); hash != std::string::npos) line.resize(hash);
            if (!line.starts_with("#")) out += line + '\n';
            start = end + 1;
        }
        return out;
    };
    BOOST_TEST(strip(to_yaml(*second.value)) == strip(printed));
    BOOST_TEST(printed.find("xn--bcher-kva.de") != std::string::npos);
    BOOST_TEST(printed.find(".contoso.com:") != std::string::npos);
    BOOST_TEST(printed.find("message_size: 50000000") != std::string::npos);
    BOOST_TEST(printed.find("dns_servers: [\"[2001:db8::53]:5353\", 127.0.0.1:53]") != std::string::npos, printed);
    BOOST_TEST(printed.find("address_order: ipv4-first") != std::string::npos);
    BOOST_TEST(second.value->outbound.mx_port == 2526);
    BOOST_TEST(second.value->process.io_threads == 3u);
    BOOST_TEST(*second.value->process.user == "dsproxy");
    BOOST_TEST(second.value->process.allow_root);
    BOOST_TEST((second.value->outbound.dns_timeout == 1500ms));
}

BOOST_AUTO_TEST_CASE(effective_config_prints_outbound_defaults) {
    temp_tree tree;
    tree.write("dsproxy.yaml", minimal_main);
    const auto result = tree.load();
    BOOST_TEST_REQUIRE(result.ok(), all_errors(result));
    const auto printed = to_yaml(*result.value);
    const std::string expected = "outbound:\n  dns_servers: []\n  dns_timeout: 5s\n  dns_tries: 2\n"
                                 "  trust_anchors: [/usr/share/dns/root.key]\n  mx_port: 25\n"
                                 "  max_mx_hosts: 5\n  max_addresses_per_host: 4\n  address_order: ipv6-first\n";
    BOOST_TEST(printed.find(expected) != std::string::npos, printed);
}

BOOST_AUTO_TEST_CASE(effective_config_prints_process_defaults) {
    temp_tree tree;
    tree.write("dsproxy.yaml", minimal_main);
    const auto result = tree.load();
    BOOST_TEST_REQUIRE(result.ok(), all_errors(result));
    const auto printed = to_yaml(*result.value);
    BOOST_TEST(printed.find("process:\n  io_threads: auto  # one per core\n  allow_root: false\n") != std::string::npos,
               printed);
    // `auto` loads back as auto.
    tree.write("printed/dsproxy.yaml", printed);
    const auto again = tree.load("printed/dsproxy.yaml");
    BOOST_TEST_REQUIRE(again.ok(), all_errors(again) + printed);
    BOOST_TEST(again.value->process.io_threads == 0u);
}

// The key list comes from the loader's own tables (`dsproxy check-config
// --keys`, the man page test): every section, nested mappings, named entries,
// lists of mappings; and each key listed is one the loader accepts.
BOOST_AUTO_TEST_CASE(accepted_keys_come_from_the_tables) {
    const auto keys = accepted_keys();
    const auto has = [&](std::string_view k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
    for (const char* k : {"include", "logging.target", "timeouts.client.command", "timeouts.shutdown_drain",
                          "listeners.<name>.fqdn", "upstreams.<name>.tls.level", "certificates.files.key",
                          "policies.<name>.on_failure", "accepted_domains", "outbound.address_order"})
        BOOST_TEST(has(k), k);
    BOOST_TEST(std::set<std::string>(keys.begin(), keys.end()).size() == keys.size());
    // A key the list names is accepted: `timeouts.client.command` in a file loads.
    temp_tree tree;
    tree.write("dsproxy.yaml", std::string(minimal_main) + "timeouts: {client: {command: 1m}}\n");
    BOOST_TEST(tree.load().ok());
}

BOOST_AUTO_TEST_SUITE_END()
