// Every class of configuration error: each names file:line:column and what
// was expected, and all errors of all files come back from one load.
#include "config/loader.hpp"
#include "tests/config/temp_tree.hpp"

#include <boost/test/unit_test.hpp>

using namespace dsproxy::config;
using dsproxy::config::test::all_errors;
using dsproxy::config::test::has_error;
using dsproxy::config::test::minimal_main;
using dsproxy::config::test::temp_tree;

namespace {

// Loads minimal_main followed by `extra` and returns the result.
load_result load_with(temp_tree& tree, std::string_view extra) {
    tree.write("dsproxy.yaml", std::string(minimal_main) + std::string(extra));
    return tree.load();
}

// Line numbers of `extra` start after minimal_main's 10 lines.
constexpr int base = 10;

}  // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(yaml_syntax_error) {
    temp_tree tree;
    const auto r = load_with(tree, "limits: {message_size: 10MiB\n");
    BOOST_TEST(!r.ok());
    BOOST_TEST(!r.value);
    BOOST_TEST(r.errors.size() == 1u, all_errors(r));
    BOOST_TEST(r.errors[0].message.find("YAML syntax error") != std::string::npos);
    BOOST_TEST(r.errors[0].where.line > 0);
    BOOST_TEST(r.errors[0].where.column > 0);
}

BOOST_AUTO_TEST_CASE(wrong_types) {
    temp_tree tree;
    const auto r = load_with(tree, "limits:\n  max_connections: [1, 2]\n  message_size: {a: b}\nlogging: text\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 20, "`max_connections`: expected a whole number, got a list"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 3, 17, "`message_size`: expected a size such as `50MiB`, got a mapping"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 4, 10, "expected a mapping of keys for logging, got a single value"),
               all_errors(r));
    BOOST_TEST(r.errors.size() == 3u);
}

BOOST_AUTO_TEST_CASE(unknown_key_suggests_the_nearest) {
    temp_tree tree;
    const auto r = load_with(tree, "policies:\n  contoso.com:\n    level: domain\n    on_failur: defer\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 4, 5,
                         "unknown key `on_failur` in policy `contoso.com`, did you mean `on_failure`?"),
               all_errors(r));
}

BOOST_AUTO_TEST_CASE(unknown_key_far_from_all_lists_the_choices) {
    temp_tree tree;
    const auto r = load_with(tree, "logging: {colour: red}\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 1, 11, "unknown key `colour` in logging; expected `level`, `format` or `target`"),
               all_errors(r));
    const auto top = load_with(tree, "polices: {}\n");
    BOOST_TEST(has_error(top, "dsproxy.yaml", base + 1, 1, "did you mean `policies`?"), all_errors(top));
}

BOOST_AUTO_TEST_CASE(misspelt_enum_value_suggests_the_nearest) {
    temp_tree tree;
    const auto r = load_with(tree, "policies:\n  contoso.com: {level: domain_secure}\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 24, "`level`: expected `none`, `opportunistic`"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 24, "did you mean `domain-secure`?"), all_errors(r));
}

BOOST_AUTO_TEST_CASE(a_misspelt_dane_mode_names_the_three) {
    temp_tree tree;
    const auto r = load_with(tree, "policies:\n  contoso.com: {dane: mandetory}\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 23,
                         "`dane`: expected `opportunistic`, `mandatory` or `none`"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 23, "did you mean `mandatory`?"), all_errors(r));
}

BOOST_AUTO_TEST_CASE(duplicate_domain_across_two_files_names_both_places) {
    temp_tree tree;
    tree.write("domains.d/a.yaml", "policies:\n  contoso.com: {level: domain}\n");
    tree.write("domains.d/b.yaml", "# partner list\npolicies:\n  other.example: {level: none}\n  Contoso.COM.: {level: encrypt}\n");
    const auto r = load_with(tree, "include: domains.d\n");
    BOOST_TEST_REQUIRE(r.errors.size() == 1u, all_errors(r));
    BOOST_TEST(r.errors[0].where.file == (tree.root() / "domains.d/b.yaml").string());
    BOOST_TEST(r.errors[0].where.line == 4);
    BOOST_TEST(r.errors[0].where.column == 3);
    BOOST_TEST(r.errors[0].message == "domain `contoso.com` is defined twice: here and at " +
                                          (tree.root() / "domains.d/a.yaml").string() + ":2:3");
}

BOOST_AUTO_TEST_CASE(duplicate_domain_and_default_in_one_file) {
    temp_tree tree;
    const auto r = load_with(tree, "policies:\n  bücher.de: {level: domain}\n  default: {level: none}\n"
                                   "  XN--BCHER-KVA.DE: {level: none}\n  default: {level: encrypt}\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 4, 3, "domain `xn--bcher-kva.de` is defined twice"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 5, 3, "`default` defined twice in policies (first at"), all_errors(r));
}

BOOST_AUTO_TEST_CASE(default_in_two_files) {
    temp_tree tree;
    tree.write("d/x.yaml", "policies:\n  default: {level: encrypt}\n");
    const auto r = load_with(tree, "include: d\npolicies:\n  default: {level: none}\n");
    BOOST_TEST(has_error(r, "d/x.yaml", 2, 3, "the default policy is defined twice: here and at "), all_errors(r));
    BOOST_TEST(r.errors.size() == 1u);
}

BOOST_AUTO_TEST_CASE(wildcard_domain_key) {
    temp_tree tree;
    const auto r = load_with(tree, "policies:\n  \"*.contoso.com\": {level: domain}\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 3,
                         "wildcard domain key `*.contoso.com` is not allowed; write `.contoso.com`"),
               all_errors(r));
    const auto accepted = load_with(tree, "policies: {}\n");
    BOOST_TEST(accepted.ok(), all_errors(accepted));
    tree.write("dsproxy.yaml", std::string(minimal_main).replace(minimal_main.find("[example.com]"), 13, "[\"*.example.com\"]"));
    const auto in_accepted = tree.load();
    BOOST_TEST(has_error(in_accepted, "dsproxy.yaml", 10, 20, "wildcard domain key"), all_errors(in_accepted));
}

BOOST_AUTO_TEST_CASE(bad_cidr) {
    temp_tree t2;
    t2.write("dsproxy.yaml", R"(listeners:
  in:
    role: inbound
    listen: 127.0.0.1:2525
    fqdn: mx.example.com
    upstream: backend
    proxy_protocol: [10.0.0.0/8, 10.1.2.3/8, 10.0.0.0/33]
upstreams:
  backend: {hosts: ["127.0.0.1:2526"]}
accepted_domains: [example.com]
)");
    const auto bad = t2.load();
    BOOST_TEST(has_error(bad, "dsproxy.yaml", 7, 34, "`proxy_protocol`: `10.1.2.3/8` has host bits set below the prefix; did you mean `10.0.0.0/8`?"),
               all_errors(bad));
    BOOST_TEST(has_error(bad, "dsproxy.yaml", 7, 46, "prefix length `/33`"), all_errors(bad));
    BOOST_TEST(bad.errors.size() == 2u);
}

BOOST_AUTO_TEST_CASE(mta_sts_only_for_recipient_domains) {
    temp_tree tree;
    tree.write("dsproxy.yaml", R"(listeners:
  in: {role: inbound, listen: 127.0.0.1:2525, fqdn: mx.example.com, upstream: backend}
upstreams:
  backend:
    hosts: ["127.0.0.1:2526"]
    tls: {level: encrypt, mta_sts: none}
accepted_domains: [example.com]
policies:
  contoso.com: {level: encrypt, mta_sts: enforce}
)");
    const auto r = tree.load();
    BOOST_TEST(has_error(r, "dsproxy.yaml", 6, 5, "`mta_sts` is not allowed in"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", 9, 42, "`mta_sts`"), all_errors(r));
    BOOST_TEST(r.errors.size() == 2u, all_errors(r));
}

BOOST_AUTO_TEST_CASE(bad_duration) {
    temp_tree tree;
    const auto r = load_with(tree, "timeouts:\n  upstream:\n    data_final: 10\n    connect: 0s\n  shutdown_drain: 1y\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 3, 17, "`data_final`: duration `10` needs a unit"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 4, 14, "`connect`: a timeout must be longer than 0"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 5, 19, "`shutdown_drain`: unknown duration unit `y`"), all_errors(r));
}

BOOST_AUTO_TEST_CASE(missing_required_keys) {
    temp_tree tree;
    tree.write("dsproxy.yaml", "listeners:\n  in:\n    role: inbound\n    upstream: backend\n"
                               "upstreams:\n  backend: {xclient: true}\naccepted_domains: [example.com]\n"
                               "policies:\n  contoso.com: {mode: testing}\n");
    const auto r = tree.load();
    BOOST_TEST(has_error(r, "dsproxy.yaml", 3, 5, "missing required key `listen` in listener `in`"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", 3, 5, "missing required key `fqdn` in listener `in`"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", 6, 12, "missing required key `hosts` in upstream `backend`"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", 9, 16, "missing required key `level` in policy `contoso.com`"), all_errors(r));
    BOOST_TEST(r.errors.size() == 4u);

    tree.write("dsproxy.yaml", "listeners:\n  in:\n");
    const auto empty_listener = tree.load();
    BOOST_TEST(has_error(empty_listener, "dsproxy.yaml", 2, 3, "missing required key `role` in listener `in`"),
               all_errors(empty_listener));
    tree.write("dsproxy.yaml", "");
    const auto empty_file = tree.load();
    BOOST_TEST(has_error(empty_file, "dsproxy.yaml", 1, 1, "missing required key `listeners` in the main file"),
               all_errors(empty_file));

    tree.write("dsproxy.yaml", "logging: {level: info}\n");
    const auto no_listeners = tree.load();
    BOOST_TEST(has_error(no_listeners, "dsproxy.yaml", 1, 1, "missing required key `listeners` in the main file"),
               all_errors(no_listeners));
}

BOOST_AUTO_TEST_CASE(include_directory_missing) {
    temp_tree tree;
    const auto r = load_with(tree, "include: [domains.d]\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 1, 11,
                         "`include`: directory `" + (tree.root() / "domains.d").string() + "` does not exist"),
               all_errors(r));
    tree.write("file.yaml", "policies: {}\n");
    const auto not_dir = load_with(tree, "include: file.yaml\n");
    BOOST_TEST(has_error(not_dir, "dsproxy.yaml", base + 1, 10, "is not a directory"), all_errors(not_dir));
}

BOOST_AUTO_TEST_CASE(main_file_missing) {
    temp_tree tree;
    const auto r = tree.load("nope.yaml");
    BOOST_TEST_REQUIRE(r.errors.size() == 1u);
    BOOST_TEST(r.errors[0].where.file == (tree.root() / "nope.yaml").string());
    BOOST_TEST(r.errors[0].message.find("cannot read the file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(duplicate_yaml_key) {
    temp_tree tree;
    const auto r = load_with(tree, "limits:\n  max_recipients: 50\n  max_recipients: 60\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 3, 3, "key `max_recipients` given twice in limits (first at"),
               all_errors(r));
}

BOOST_AUTO_TEST_CASE(main_only_section_in_an_included_file) {
    temp_tree tree;
    tree.write("d/x.yaml", "limits: {max_recipients: 5}\npolicies: {a.example: {level: none}}\nlevel: none\n");
    const auto r = load_with(tree, "include: d\n");
    BOOST_TEST(has_error(r, "d/x.yaml", 1, 1, "section `limits` is only allowed in the main file"), all_errors(r));
    BOOST_TEST(has_error(r, "d/x.yaml", 3, 1, "unknown key `level` in an included file"), all_errors(r));
    BOOST_TEST(r.errors.size() == 2u);
}

BOOST_AUTO_TEST_CASE(missing_files_named_by_keys) {
    temp_tree tree;
    const auto r = load_with(tree, "trust: {ca_file: ca.pem}\npolicies:\n  contoso.com: {level: validate, crl: [x.crl]}\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 1, 18, "`ca_file`: file `" + (tree.root() / "ca.pem").string() +
                                                               "` does not exist"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 3, 40, "`crl`: file"), all_errors(r));
}

BOOST_AUTO_TEST_CASE(checks_between_sections) {
    temp_tree tree;
    tree.write("dsproxy.yaml", R"(listeners:
  in:
    role: inbound
    listen: 127.0.0.1:2525
    fqdn: mx.example.com
    upstream: backnd
  out:
    role: outbound
    listen: 127.0.0.1:2525
    fqdn: mx.example.com
    upstream: backend
upstreams:
  backend: {hosts: ["127.0.0.1:2526"], tls: {level: domain}}
)");
    const auto r = tree.load();
    BOOST_TEST(has_error(r, "dsproxy.yaml", 2, 3, "names upstream `backnd`, which is not defined in `upstreams`; did you mean `backend`?"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", 2, 3, "`accepted_domains` is empty"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", 7, 3, "listens on 127.0.0.1:2525, which is already used at"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", 7, 3, "needs `allowed_clients`"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", 7, 3, "`upstream` applies to inbound listeners only"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", 13, 3, "upstream `backend` has TLS level `domain` and needs `tls_domain`"),
               all_errors(r));
}

BOOST_AUTO_TEST_CASE(keys_that_need_a_higher_level) {
    temp_tree tree;
    const auto r = load_with(tree, "policies:\n  a.example: {level: encrypt, tls_domain: a.example}\n"
                                   "  b.example: {level: opportunistic, match_host: true}\n"
                                   "upstreams2: {}\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 3, "`tls_domain` in policy `a.example` needs level `domain`"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 3, 3, "`match_host` in policy `b.example` needs level `validate`"),
               all_errors(r));
}

BOOST_AUTO_TEST_CASE(all_errors_of_all_files_at_once) {
    temp_tree tree;
    tree.write("d/1.yaml", "policies:\n  a.example: {level: nonee}\n");
    tree.write("d/2.yaml", "policies: [broken\n");
    tree.write("d/3.yaml", "policies:\n  \"*.b.example\": {level: none}\n");
    const auto r = load_with(tree, "include: d\nlimits: {message_size: lots, max_recipients: -1}\n");
    BOOST_TEST(r.errors.size() == 5u, all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 24, "`message_size`"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 46, "`max_recipients`"), all_errors(r));
    BOOST_TEST(has_error(r, "d/1.yaml", 2, 22, "did you mean `none`?"), all_errors(r));
    BOOST_TEST(has_error(r, "d/3.yaml", 2, 3, "wildcard"), all_errors(r));
    // Errors come in file order: main file first, then the includes by name.
    BOOST_TEST(r.errors.back().where.file.ends_with("d/3.yaml"));
}

BOOST_AUTO_TEST_CASE(line_and_buffer_limits_below_the_rfc_minimum_or_out_of_range) {
    temp_tree tree;
    const auto r = load_with(tree, R"(limits:
  command_line_length: 511
  text_line_length: 999
  reply_line_length: 100
  reply_lines: 0
  pipelined_input: 4KiB
)");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 24, "must be at least 512 octets (RFC 5321 §4.5.3.1.4), got 511"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 3, 21, "must be at least 1000 octets (RFC 5321 §4.5.3.1.6), got 999"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 4, 22, "must be at least 512 octets (RFC 5321 §4.5.3.1.5), got 100"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 5, 16, "`reply_lines`: must be at least 1"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 6, 20, "`pipelined_input`: must be from 64KiB (one read) to 64MiB, got 4KiB"),
               all_errors(r));
    BOOST_TEST(r.errors.size() == 5u, all_errors(r));

    const auto big = load_with(tree, "limits: {reply_lines: 10001, pipelined_input: 1GiB}\n");
    BOOST_TEST(has_error(big, "dsproxy.yaml", base + 1, 23, "`reply_lines`: `10001` is too large; the maximum is 10000"),
               all_errors(big));
    BOOST_TEST(has_error(big, "dsproxy.yaml", base + 1, 47, "got 1GiB"), all_errors(big));
}

BOOST_AUTO_TEST_CASE(bad_outbound_values) {
    temp_tree tree;
    const auto r = load_with(tree, R"(outbound:
  dns_servers: [ns1.example.com, "127.0.0.1:0", "::1:53", 127.0.0.1]
  dns_timeout: 0s
  dns_tries: 0
  mx_port: 0
  max_mx_hosts: 0
  max_addresses_per_host: 0
  address_order: ipv6_first
  dns_timout: 1s
)");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 17,
                         "`dns_servers`: DNS server `ns1.example.com` is not an IP address; write one such as"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 34, "`dns_servers`: port `0` in `127.0.0.1:0` is not a number from 1 to 65535"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 49, "must be written in brackets"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 3, 16, "`dns_timeout`: a timeout must be longer than 0"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 4, 14, "`dns_tries`: must be at least 1"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 5, 12, "`mx_port`: a port must be a number from 1 to 65535"),
               all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 6, 17, "`max_mx_hosts`: must be at least 1"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 7, 27, "`max_addresses_per_host`: must be at least 1"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 8, 18, "did you mean `ipv6-first`?"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 9, 3, "unknown key `dns_timout` in outbound, did you mean `dns_timeout`?"),
               all_errors(r));
    BOOST_TEST(r.errors.size() == 10u, all_errors(r));

    const auto big = load_with(tree, "outbound: {mx_port: 65536, dns_servers: {a: b}}\n");
    BOOST_TEST(has_error(big, "dsproxy.yaml", base + 1, 21, "`mx_port`: `65536` is too large; the maximum is 65535"),
               all_errors(big));
    BOOST_TEST(has_error(big, "dsproxy.yaml", base + 1, 41, "`dns_servers`: expected a DNS server address such as"),
               all_errors(big));
    BOOST_TEST(big.errors.size() == 2u, all_errors(big));

    // A trust anchor that does not exist is named with its place; an empty
    // list (no DNSSEC validation) is valid.
    const auto anchors = load_with(tree, "outbound: {trust_anchors: [missing.key]}\n");
    BOOST_TEST(has_error(anchors, "dsproxy.yaml", base + 1, 28, "`trust_anchors`: file `"), all_errors(anchors));
    BOOST_TEST(has_error(anchors, "dsproxy.yaml", base + 1, 28, "missing.key` does not exist"), all_errors(anchors));
    const auto none = load_with(tree, "outbound: {trust_anchors: []}\n");
    BOOST_TEST_REQUIRE(none.ok(), all_errors(none));
    BOOST_TEST(none.value->outbound.trust_anchors.empty());

    tree.write("d/x.yaml", "outbound: {mx_port: 2525}\n");
    const auto included = load_with(tree, "include: d\n");
    BOOST_TEST(has_error(included, "d/x.yaml", 1, 1, "section `outbound` is only allowed in the main file"),
               all_errors(included));
}

BOOST_AUTO_TEST_CASE(bad_process_values) {
    temp_tree tree;
    const auto r = load_with(tree, R"(process:
  io_threads: 0
  user: "-rf"
  group: "mail group"
  allow_root: maybe
  io_thread: 2
)");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 15, "`io_threads`: must be at least 1, or `auto`"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 3, 9, "`user`: expected a user or group name"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 4, 10, "`group`: expected a user or group name"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 5, 15, "`allow_root`: expected `true` or `false`"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 6, 3, "unknown key `io_thread` in process, did you mean `io_threads`?"),
               all_errors(r));
    BOOST_TEST(r.errors.size() == 5u, all_errors(r));

    const auto many = load_with(tree, "process: {io_threads: 257}\n");
    BOOST_TEST(has_error(many, "dsproxy.yaml", base + 1, 23, "`io_threads`: `257` is too large; the maximum is 256"),
               all_errors(many));
    const auto group_only = load_with(tree, "process: {group: mail}\n");
    BOOST_TEST(has_error(group_only, "dsproxy.yaml", base + 1, 10, "`group` needs `user`"), all_errors(group_only));

    tree.write("d/x.yaml", "process: {io_threads: 2}\n");
    const auto included = load_with(tree, "include: d\n");
    BOOST_TEST(has_error(included, "d/x.yaml", 1, 1, "section `process` is only allowed in the main file"),
               all_errors(included));
}

BOOST_AUTO_TEST_CASE(bad_ticket_settings) {
    temp_tree tree;
    const auto r = load_with(tree, "certificates: {ticket_key_file: nothing/here.key, tls13_tickets: 9}\n");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 1, 33, "ticket_key_file"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 1, 66, "`tls13_tickets`: `9` is too large; the maximum is 8"),
               all_errors(r));
    BOOST_TEST(r.errors.size() == 2u, all_errors(r));
}

BOOST_AUTO_TEST_CASE(every_diagnostic_formats_as_file_line_column) {
    const diagnostic d{{"/etc/dsproxy/dsproxy.yaml", 12, 5}, "unknown key `on_failur`, did you mean `on_failure`?"};
    BOOST_TEST(format(d) == "/etc/dsproxy/dsproxy.yaml:12:5: error: unknown key `on_failur`, did you mean `on_failure`?");
    BOOST_TEST(format(diagnostic{{"x.yaml", 0, 0}, "cannot read"}) == "x.yaml: error: cannot read");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(bad_rate_networks) {
    // A prefix length of 0 would put every client in one network; above the
    // address length there is no such prefix.
    temp_tree tree;
    const auto r = load_with(tree, R"(limits:
  rate_network_ipv4: 0
  rate_network_ipv6: 129
)");
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 2, 22, "`rate_network_ipv4`: must be at least 1"), all_errors(r));
    BOOST_TEST(has_error(r, "dsproxy.yaml", base + 3, 22, "`rate_network_ipv6`: `129` is too large; the maximum is 128"),
               all_errors(r));
    BOOST_TEST(r.errors.size() == 2u, all_errors(r));
    const auto ok = load_with(tree, "limits: {rate_network_ipv4: 24, rate_network_ipv6: 48}\n");
    BOOST_TEST(ok.errors.empty(), all_errors(ok));
}
