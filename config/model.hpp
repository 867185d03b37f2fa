// model — the typed configuration of dsproxy (docs/design.md §1, §2, §4.1, §6, §7).
//
// Owns: one plain struct per section, every default value in one place
// (RFC 5321 §4.5.3 for limits and timeouts), and the whole `config` that the
// loader returns. main shares a loaded config as `shared_ptr<const config>`:
// it is never modified after loading, so a SIGHUP reload swaps in a new one
// while sessions in flight keep the one they started with (docs/design.md §7).
// Must not: parse, do I/O, or depend on anything but `matching`.
//
// Paths are absolute: relative paths in a file resolve against the directory
// of the file that names them.
#pragma once

#include "config/address.hpp"
#include "config/certificate_ref.hpp"
#include "config/diagnostic.hpp"
#include "config/domain_table.hpp"
#include "config/enums.hpp"
#include "config/policy.hpp"
#include "config/quantity.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::config {

using namespace std::chrono_literals;

struct listener {
    std::string name;
    source_location where;
    std::vector<host_port> listen;                 // IP literals only; at least one
    std::string fqdn;                              // banner, EHLO, certificate key (A-label)
    listener_tls tls = listener_tls::starttls;
    listener_role role = listener_role::inbound;
    std::optional<certificate_ref> certificate;    // pinned by thumbprint instead of by fqdn
    certificate_fallback fallback = certificate_fallback::none;
    listener_without_certificate without_certificate = listener_without_certificate::refuse;
    std::vector<cidr> proxy_protocol;              // trusted PROXY v1/v2 senders; empty: off
    std::vector<cidr> allowed_clients;             // outbound: who may relay; required there
    std::string upstream;                          // inbound: the backend upstream's name; required there
};

struct upstream {
    std::string name;
    source_location where;
    std::vector<host_port> hosts;  // tried in order; port 25 when not written
    bool xclient = false;          // pass the client's address with Postfix XCLIENT
    bool proxy_protocol = false;   // send a PROXY v2 header first
    domain_policy tls;             // TLS policy of this leg (no `route`)
};

struct certificate_file {
    std::string certificate;  // PEM: certificate and chain (and the key, when `key` is empty)
    std::string key;          // separate key file, or empty
    // Used only as our client certificate (docs/design.md §4.1): its EKU needs
    // clientAuth, not serverAuth, and it is never served to clients.
    bool client_only = false;
};

struct certificate_store {
    std::vector<certificate_file> files;
    std::vector<std::string> directories;   // every *.pem in them; the first also receives generated ones
    bool auto_selfsigned = false;           // docs/design.md §4.1: create one for a listener fqdn with none
    bool allow_group_readable_keys = false; // docs/design.md §10: refuse keys others can read, unless told
    // docs/design.md §3, §8: session ticket keys shared by instances (80-byte records,
    // newest first; read again at every reload). Unset: a random key per process.
    std::optional<std::string> ticket_key_file;
    std::uint64_t tls13_tickets = 0;        // TLS 1.3 tickets per full handshake (each costs CPU)
};

struct trust {
    bool system = true;                      // also the system's default trust store
    std::optional<std::string> ca_file;
    std::optional<std::string> ca_dir;
    std::vector<std::string> crl_files;
};

// docs/design.md §2. Counts and sizes, each answered with its own reply code.
struct limits {
    std::uint64_t max_connections = 1000;           // 421 4.7.0 at accept
    std::uint64_t max_connections_per_client = 20;
    // Per client network (docs/design.md §2, like Postfix's anvil): connections
    // and MAIL commands per minute; 0 is no limit. Over it: 421 4.7.0.
    std::uint64_t connection_rate_per_client = 0;
    std::uint64_t message_rate_per_client = 0;
    std::uint64_t rate_network_ipv4 = 32;   // prefix lengths that make a "client"
    std::uint64_t rate_network_ipv6 = 64;
    std::vector<cidr> rate_exempt;          // networks never rate-limited
    std::uint64_t command_line_length = 512;        // RFC 5321 §4.5.3.1.4, incl. CRLF
    std::uint64_t text_line_length = 1000;          // RFC 5321 §4.5.3.1.6, incl. CRLF
    std::uint64_t message_size = 50ull << 20;       // SIZE, 552 5.3.4
    std::uint64_t max_recipients = 100;                // RFC 5321 §4.5.3.1.8; 452 4.5.3
    std::uint64_t max_bad_commands = 20;               // then 421 and close (Postfix's hard limit)
    std::uint64_t reply_line_length = 512;          // a next hop's reply lines, RFC 5321 §4.5.3.1.5
    std::uint64_t reply_lines = 100;                // lines of one multi-line reply from a next hop
    std::uint64_t pipelined_input = 64ull << 10;    // bytes held unread behind a pending command
    duration greeting_delay = 0s;                   // wait before the banner; talkers get 554
    std::uint64_t min_data_rate = 500;              // bytes per second in DATA (Postfix's default)
    bare_lf_action data_bare_lf = bare_lf_action::reject;  // SMTP smuggling
};

// docs/design.md §2: RFC 5321 §4.5.3.2 values as defaults.
struct client_timeouts {
    duration command = 5min;        // §4.5.3.2.7 server timeout
    duration data_block = 5min;     // §4.5.3.2.7, per read in DATA/BDAT
    duration tls_handshake = 1min;
    duration proxy_header = 10s;    // the whole PROXY v1/v2 header from a trusted balancer
};

struct upstream_timeouts {
    duration connect = 30s;
    duration greeting = 5min;       // §4.5.3.2.1 initial 220
    duration ehlo = 5min;
    duration mail = 5min;           // §4.5.3.2.2
    duration rcpt = 5min;           // §4.5.3.2.3
    duration data_init = 2min;      // §4.5.3.2.4 DATA's 354
    duration data_block = 3min;     // §4.5.3.2.5
    duration data_final = 10min;    // §4.5.3.2.6 reply to the final dot
    duration tls_handshake = 1min;
};

struct timeouts {
    client_timeouts client;
    upstream_timeouts upstream;
    duration shutdown_drain = 30s;  // docs/design.md §8: after SIGTERM, then 421
};

struct logging {
    log_level level = log_level::info;
    log_format format = log_format::text;
    log_target target = log_target::stderr_stream;
    bool operator==(const logging&) const = default;  // the whole section is read at start only
};

struct metrics {
    std::optional<host_port> listen;  // Prometheus text on HTTP; off when absent
    // Who may scrape (docs/configuration.md, `metrics`): a bearer token, or
    // users with crypt(3) password hashes; either is enough when both are set.
    std::optional<std::string> bearer_token_file;
    std::optional<std::string> basic_auth_file;
    bool allow_unauthenticated = false;  // needed on an address other than loopback without either
};

// How the `dsproxy run` process runs (docs/design.md §8): its I/O threads, and the
// account it switches to once the listeners are bound and the keys read.
// Read at start only: a reload cannot add threads or regain root.
struct process_settings {
    std::uint64_t io_threads = 0;       // 0 (`auto`): one per core
    std::optional<std::string> user;    // started as root: switch to this account after binding
    std::optional<std::string> group;   // default: the user's primary group
    bool allow_root = false;            // keep running as root (otherwise refused)
    // Where `dsproxy run` writes the effective configuration it serves, after
    // start and each reload, for `check-config --diff`. Absent: not written.
    std::optional<std::string> running_config;
};

// The outbound engine's DNS and routing: next hops from MX records, then A/AAAA.
struct outbound_routing {
    std::vector<host_port> dns_servers;              // forwarders, port 53 when not written; empty: /etc/resolv.conf
    duration dns_timeout = 5s;                       // one lookup gives up after dns_timeout x dns_tries
    std::uint64_t dns_tries = 2;                     // resolv.conf's `attempts` default
    // DNSSEC trust anchors (DS/DNSKEY in zone-file syntax, docs/design.md §6.4);
    // an empty list: no validation, every answer insecure, DANE never applies.
    std::vector<std::string> trust_anchors{"/usr/share/dns/root.key"};
    std::uint16_t mx_port = 25;                      // MX and implicit-MX delivery (tests use another)
    std::uint64_t max_mx_hosts = 5;                  // MX hosts tried per domain, by preference
    std::uint64_t max_addresses_per_host = 4;        // addresses tried per next-hop host
    address_order order = address_order::ipv6_first; // YAML key `address_order`
};

// docs/design.md §6.4 `store`: where MTA-STS policies, TLS-RPT counters and the
// STARTTLS history live. Exactly one of `path` and `redis`; neither: the
// SQLite file `store.db` in the state directory (systemd's
// $STATE_DIRECTORY, else /var/lib/dsproxy).
struct redis_address {
    std::string host;          // IP literal or host name
    std::uint16_t port = 6379;
    std::uint64_t db = 0;

    friend bool operator==(const redis_address&, const redis_address&) = default;
};

struct store_settings {
    std::optional<std::string> path;    // absolute
    std::optional<redis_address> redis;  // `redis://host:port/db`
    duration timeout = 2s;              // per store operation (SQLite busy wait, Redis connect and command)
};

// docs/design.md §6.4 `tls_reporting` (RFC 8460): reports are sent only when this
// section is present.
struct tls_reporting {
    std::string organization;            // "organization-name"
    std::string contact;                 // "contact-info"
    std::string from;                    // From address of mailed reports
    std::optional<std::string> submitter;  // TLS-Report-Submitter; default: the host name
};

struct config {
    std::string main_file;                   // absolute
    std::vector<std::string> include;        // absolute directories, as listed
    std::vector<std::string> files;          // every file loaded, in merge order
    logging log;
    metrics metric;
    process_settings process;
    limits limit;
    timeouts timeout;
    outbound_routing outbound;
    store_settings store;
    std::optional<tls_reporting> reporting;  // YAML key `tls_reporting`
    std::vector<listener> listeners;         // in file order
    std::vector<upstream> upstreams;         // in file order
    domain_table<source_location> accepted_domains;
    certificate_store certificates;
    trust trust_store;
    policy_table policies;

    const upstream* find_upstream(std::string_view name) const {
        for (const auto& u : upstreams)
            if (u.name == name) return &u;
        return nullptr;
    }
    // `domain` in canonical form.
    bool accepts(std::string_view domain) const { return accepted_domains.lookup(domain).has_value(); }
};

}  // namespace dsproxy::config
