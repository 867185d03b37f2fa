// emitter — see emitter.hpp.
#include "config/emitter.hpp"

#include <yaml-cpp/yaml.h>

namespace dsproxy::config {

namespace {

template <class V>
void list(YAML::Emitter& e, const std::vector<V>& values) {
    e << YAML::Flow << YAML::BeginSeq;
    for (const auto& v : values) {
        if constexpr (std::is_same_v<V, std::string>)
            e << v;
        else
            e << to_string(v);
    }
    e << YAML::EndSeq;
}

template <class E>
std::string name(E value) {
    return std::string(to_name(value));
}

void emit_policy(YAML::Emitter& e, const domain_policy& p, bool with_route) {
    e << YAML::BeginMap;
    e << YAML::Key << "level" << YAML::Value << name(p.level);
    e << YAML::Key << "on_failure" << YAML::Value << name(p.on_failure);
    e << YAML::Key << "mode" << YAML::Value << name(p.mode);
    if (p.tls_domain) e << YAML::Key << "tls_domain" << YAML::Value << *p.tls_domain;
    e << YAML::Key << "match_host" << YAML::Value << p.match_host;
    e << YAML::Key << "min_tls" << YAML::Value << YAML::DoubleQuoted << name(p.min_tls);
    if (!p.ciphers.empty()) e << YAML::Key << "ciphers" << YAML::Value << p.ciphers;
    if (p.ca_file) e << YAML::Key << "ca_file" << YAML::Value << *p.ca_file;
    if (!p.crl.empty()) e << YAML::Key << "crl" << YAML::Value, list(e, p.crl);
    if (p.client_certificate)
        e << YAML::Key << "client_certificate" << YAML::Value << to_string(*p.client_certificate);
    e << YAML::Key << "cn_fallback" << YAML::Value << name(p.cn_fallback);
    if (with_route && !p.route.empty()) e << YAML::Key << "route" << YAML::Value, list(e, p.route);
    if (with_route) e << YAML::Key << "dane" << YAML::Value << name(p.dane);
    if (with_route) e << YAML::Key << "mta_sts" << YAML::Value << name(p.mta_sts);
    e << YAML::EndMap;
}

void emit_listener(YAML::Emitter& e, const listener& l) {
    e << YAML::Key << l.name << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "listen" << YAML::Value, list(e, l.listen);
    e << YAML::Key << "fqdn" << YAML::Value << l.fqdn;
    e << YAML::Key << "role" << YAML::Value << name(l.role);
    e << YAML::Key << "tls" << YAML::Value << name(l.tls);
    if (l.certificate) e << YAML::Key << "certificate" << YAML::Value << to_string(*l.certificate);
    e << YAML::Key << "fallback" << YAML::Value << name(l.fallback);
    e << YAML::Key << "without_certificate" << YAML::Value << name(l.without_certificate);
    e << YAML::Key << "proxy_protocol" << YAML::Value, list(e, l.proxy_protocol);
    if (l.role == listener_role::outbound) e << YAML::Key << "allowed_clients" << YAML::Value, list(e, l.allowed_clients);
    if (!l.upstream.empty()) e << YAML::Key << "upstream" << YAML::Value << l.upstream;
    e << YAML::EndMap;
}

void emit_upstream(YAML::Emitter& e, const upstream& u) {
    e << YAML::Key << u.name << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "hosts" << YAML::Value, list(e, u.hosts);
    e << YAML::Key << "xclient" << YAML::Value << u.xclient;
    e << YAML::Key << "proxy_protocol" << YAML::Value << u.proxy_protocol;
    e << YAML::Key << "tls" << YAML::Value;
    emit_policy(e, u.tls, false);
    e << YAML::EndMap;
}

void emit_limits(YAML::Emitter& e, const limits& l) {
    e << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "max_connections" << YAML::Value << l.max_connections;
    e << YAML::Key << "max_connections_per_client" << YAML::Value << l.max_connections_per_client;
    e << YAML::Key << "connection_rate_per_client" << YAML::Value << l.connection_rate_per_client;
    e << YAML::Key << "message_rate_per_client" << YAML::Value << l.message_rate_per_client;
    e << YAML::Key << "rate_network_ipv4" << YAML::Value << l.rate_network_ipv4;
    e << YAML::Key << "rate_network_ipv6" << YAML::Value << l.rate_network_ipv6;
    e << YAML::Key << "rate_exempt" << YAML::Value, list(e, l.rate_exempt);
    e << YAML::Key << "command_line_length" << YAML::Value << l.command_line_length;
    e << YAML::Key << "text_line_length" << YAML::Value << l.text_line_length;
    e << YAML::Key << "message_size" << YAML::Value << format_size(l.message_size);
    e << YAML::Key << "max_recipients" << YAML::Value << l.max_recipients;
    e << YAML::Key << "max_bad_commands" << YAML::Value << l.max_bad_commands;
    e << YAML::Key << "reply_line_length" << YAML::Value << l.reply_line_length;
    e << YAML::Key << "reply_lines" << YAML::Value << l.reply_lines;
    e << YAML::Key << "pipelined_input" << YAML::Value << format_size(l.pipelined_input);
    e << YAML::Key << "greeting_delay" << YAML::Value << format_duration(l.greeting_delay);
    e << YAML::Key << "min_data_rate" << YAML::Value << format_size(l.min_data_rate);
    e << YAML::Key << "data_bare_lf" << YAML::Value << name(l.data_bare_lf);
    e << YAML::EndMap;
}

void emit_timeouts(YAML::Emitter& e, const timeouts& t) {
    const auto d = [&](const char* key, duration value) {
        e << YAML::Key << key << YAML::Value << format_duration(value);
    };
    e << YAML::Key << "timeouts" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "client" << YAML::Value << YAML::BeginMap;
    d("command", t.client.command);
    d("data_block", t.client.data_block);
    d("tls_handshake", t.client.tls_handshake);
    d("proxy_header", t.client.proxy_header);
    e << YAML::EndMap;
    e << YAML::Key << "upstream" << YAML::Value << YAML::BeginMap;
    d("connect", t.upstream.connect);
    d("greeting", t.upstream.greeting);
    d("ehlo", t.upstream.ehlo);
    d("mail", t.upstream.mail);
    d("rcpt", t.upstream.rcpt);
    d("data_init", t.upstream.data_init);
    d("data_block", t.upstream.data_block);
    d("data_final", t.upstream.data_final);
    d("tls_handshake", t.upstream.tls_handshake);
    e << YAML::EndMap;
    d("shutdown_drain", t.shutdown_drain);
    e << YAML::EndMap;
}

void emit_process(YAML::Emitter& e, const process_settings& p) {
    e << YAML::Key << "process" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "io_threads" << YAML::Value;
    if (p.io_threads == 0)
        e << "auto" << YAML::Comment("one per core");
    else
        e << p.io_threads;
    if (p.user) e << YAML::Key << "user" << YAML::Value << *p.user;
    if (p.group) e << YAML::Key << "group" << YAML::Value << *p.group;
    e << YAML::Key << "allow_root" << YAML::Value << p.allow_root;
    if (p.running_config) e << YAML::Key << "running_config" << YAML::Value << *p.running_config;
    e << YAML::EndMap;
}

void emit_outbound(YAML::Emitter& e, const outbound_routing& o) {
    e << YAML::Key << "outbound" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "dns_servers" << YAML::Value, list(e, o.dns_servers);
    e << YAML::Key << "dns_timeout" << YAML::Value << format_duration(o.dns_timeout);
    e << YAML::Key << "dns_tries" << YAML::Value << o.dns_tries;
    e << YAML::Key << "trust_anchors" << YAML::Value, list(e, o.trust_anchors);
    e << YAML::Key << "mx_port" << YAML::Value << o.mx_port;
    e << YAML::Key << "max_mx_hosts" << YAML::Value << o.max_mx_hosts;
    e << YAML::Key << "max_addresses_per_host" << YAML::Value << o.max_addresses_per_host;
    e << YAML::Key << "address_order" << YAML::Value << name(o.order);
    e << YAML::EndMap;
}

void emit_store(YAML::Emitter& e, const store_settings& s) {
    e << YAML::Key << "store" << YAML::Value << YAML::BeginMap;
    if (s.redis)
        e << YAML::Key << "redis" << YAML::Value
          << "redis://" + to_string(host_port{s.redis->host, parse_ip(s.redis->host), s.redis->port}) + "/" +
                 std::to_string(s.redis->db);
    else if (s.path)
        e << YAML::Key << "path" << YAML::Value << *s.path;
    e << YAML::Key << "timeout" << YAML::Value << format_duration(s.timeout);
    if (!s.redis && !s.path) e << YAML::Comment("SQLite: store.db in the state directory");
    e << YAML::EndMap;
}

void emit_tls_reporting(YAML::Emitter& e, const std::optional<tls_reporting>& r) {
    if (!r) return;
    e << YAML::Key << "tls_reporting" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "organization" << YAML::Value << r->organization;
    e << YAML::Key << "contact" << YAML::Value << r->contact;
    e << YAML::Key << "from" << YAML::Value << r->from;
    if (r->submitter) e << YAML::Key << "submitter" << YAML::Value << *r->submitter;
    e << YAML::EndMap;
}

void emit_certificates(YAML::Emitter& e, const certificate_store& c) {
    e << YAML::Key << "certificates" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "files" << YAML::Value;
    if (c.files.empty()) e << YAML::Flow;
    e << YAML::BeginSeq;
    for (const auto& f : c.files) {
        if (f.key.empty() && !f.client_only) {
            e << f.certificate;
        } else {
            e << YAML::BeginMap << YAML::Key << "certificate" << YAML::Value << f.certificate;
            if (!f.key.empty()) e << YAML::Key << "key" << YAML::Value << f.key;
            if (f.client_only) e << YAML::Key << "client_only" << YAML::Value << true;
            e << YAML::EndMap;
        }
    }
    e << YAML::EndSeq;
    e << YAML::Key << "directories" << YAML::Value, list(e, c.directories);
    e << YAML::Key << "auto_selfsigned" << YAML::Value << c.auto_selfsigned;
    e << YAML::Key << "allow_group_readable_keys" << YAML::Value << c.allow_group_readable_keys;
    if (c.ticket_key_file) e << YAML::Key << "ticket_key_file" << YAML::Value << *c.ticket_key_file;
    e << YAML::Key << "tls13_tickets" << YAML::Value << c.tls13_tickets;
    e << YAML::EndMap;
}

void emit_trust(YAML::Emitter& e, const trust& t) {
    e << YAML::Key << "trust" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "system" << YAML::Value << t.system;
    if (t.ca_file) e << YAML::Key << "ca_file" << YAML::Value << *t.ca_file;
    if (t.ca_dir) e << YAML::Key << "ca_dir" << YAML::Value << *t.ca_dir;
    e << YAML::Key << "crl_files" << YAML::Value, list(e, t.crl_files);
    e << YAML::EndMap;
}

void emit_policies(YAML::Emitter& e, const policy_table& table) {
    e << YAML::Key << "policies" << YAML::Value << YAML::BeginMap;
    const auto& fallback = table.fallback();
    e << YAML::Key << "default" << YAML::Value;
    if (!fallback.where.file.empty()) e << YAML::Comment("from " + to_string(fallback.where));
    emit_policy(e, fallback, true);
    for (const auto& [key, policy] : table.entries().sorted()) {
        e << YAML::Key << to_string(key) << YAML::Value << YAML::Comment("from " + to_string(policy->where));
        emit_policy(e, *policy, true);
    }
    e << YAML::EndMap;
}

}  // namespace

std::string to_yaml(const config& cfg) {
    YAML::Emitter e;
    e << YAML::Comment("effective configuration of " + cfg.main_file);
    e << YAML::BeginMap;
    e << YAML::Key << "logging" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "level" << YAML::Value << name(cfg.log.level);
    e << YAML::Key << "format" << YAML::Value << name(cfg.log.format);
    e << YAML::Key << "target" << YAML::Value << name(cfg.log.target) << YAML::EndMap;
    if (const auto& m = cfg.metric; m.listen) {
        e << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap << YAML::Key << "listen" << YAML::Value
          << to_string(*m.listen);
        if (m.bearer_token_file) e << YAML::Key << "bearer_token_file" << YAML::Value << *m.bearer_token_file;
        if (m.basic_auth_file) e << YAML::Key << "basic_auth_file" << YAML::Value << *m.basic_auth_file;
        e << YAML::Key << "allow_unauthenticated" << YAML::Value << m.allow_unauthenticated << YAML::EndMap;
    }
    emit_process(e, cfg.process);
    emit_limits(e, cfg.limit);
    emit_timeouts(e, cfg.timeout);
    emit_outbound(e, cfg.outbound);
    emit_store(e, cfg.store);
    emit_tls_reporting(e, cfg.reporting);
    e << YAML::Key << "listeners" << YAML::Value << YAML::BeginMap;
    for (const auto& l : cfg.listeners) emit_listener(e, l);
    e << YAML::EndMap;
    e << YAML::Key << "upstreams" << YAML::Value << YAML::BeginMap;
    for (const auto& u : cfg.upstreams) emit_upstream(e, u);
    e << YAML::EndMap;
    emit_certificates(e, cfg.certificates);
    emit_trust(e, cfg.trust_store);
    e << YAML::Key << "accepted_domains" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& [key, where] : cfg.accepted_domains.sorted()) e << to_string(key);
    e << YAML::EndSeq;
    emit_policies(e, cfg.policies);
    e << YAML::EndMap;
    return std::string(e.c_str()) + "\n";
}

}  // namespace dsproxy::config
