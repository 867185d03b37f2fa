// sections_runtime — logging, metrics, process, limits, timeouts and outbound (docs/design.md §2, §8).
// See sections.hpp; defaults live in model.hpp.
#include "config/sections.hpp"

#include "config/value_kinds.hpp"

namespace dsproxy::config {

namespace {

using L = limits;
constexpr std::array limit_fields{
    field<L>{"max_connections", [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_count, o.max_connections); }},
    field<L>{"max_connections_per_client",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_count, o.max_connections_per_client); }},
    field<L>{"connection_rate_per_client",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_rate_per_minute, o.connection_rate_per_client); }},
    field<L>{"message_rate_per_client",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_rate_per_minute, o.message_rate_per_client); }},
    field<L>{"rate_network_ipv4",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, an_ipv4_prefix, o.rate_network_ipv4); }},
    field<L>{"rate_network_ipv6",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, an_ipv6_prefix, o.rate_network_ipv6); }},
    field<L>{"rate_exempt", [](file_reader& r, const YAML::Node& n, L& o) { r.set_list(n, a_cidr, o.rate_exempt); }},
    field<L>{"command_line_length",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_command_line_length, o.command_line_length); }},
    field<L>{"text_line_length",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_text_line_length, o.text_line_length); }},
    field<L>{"message_size", [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_size, o.message_size); }},
    field<L>{"max_recipients", [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_count, o.max_recipients); }},
    field<L>{"max_bad_commands",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_count, o.max_bad_commands); }},
    field<L>{"reply_line_length",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_reply_line_length, o.reply_line_length); }},
    field<L>{"reply_lines",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_reply_line_count, o.reply_lines); }},
    field<L>{"pipelined_input",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_pipelined_input_size, o.pipelined_input); }},
    field<L>{"greeting_delay", [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_duration, o.greeting_delay); }},
    field<L>{"min_data_rate", [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, a_size, o.min_data_rate); }},
    field<L>{"data_bare_lf",
             [](file_reader& r, const YAML::Node& n, L& o) { r.set(n, an_enum<bare_lf_action>, o.data_bare_lf); }},
};

using CT = client_timeouts;
constexpr std::array client_timeout_fields{
    field<CT>{"command", [](file_reader& r, const YAML::Node& n, CT& o) { r.set(n, a_timeout, o.command); }},
    field<CT>{"data_block", [](file_reader& r, const YAML::Node& n, CT& o) { r.set(n, a_timeout, o.data_block); }},
    field<CT>{"tls_handshake", [](file_reader& r, const YAML::Node& n, CT& o) { r.set(n, a_timeout, o.tls_handshake); }},
    field<CT>{"proxy_header", [](file_reader& r, const YAML::Node& n, CT& o) { r.set(n, a_timeout, o.proxy_header); }},
};

using UT = upstream_timeouts;
constexpr std::array upstream_timeout_fields{
    field<UT>{"connect", [](file_reader& r, const YAML::Node& n, UT& o) { r.set(n, a_timeout, o.connect); }},
    field<UT>{"greeting", [](file_reader& r, const YAML::Node& n, UT& o) { r.set(n, a_timeout, o.greeting); }},
    field<UT>{"ehlo", [](file_reader& r, const YAML::Node& n, UT& o) { r.set(n, a_timeout, o.ehlo); }},
    field<UT>{"mail", [](file_reader& r, const YAML::Node& n, UT& o) { r.set(n, a_timeout, o.mail); }},
    field<UT>{"rcpt", [](file_reader& r, const YAML::Node& n, UT& o) { r.set(n, a_timeout, o.rcpt); }},
    field<UT>{"data_init", [](file_reader& r, const YAML::Node& n, UT& o) { r.set(n, a_timeout, o.data_init); }},
    field<UT>{"data_block", [](file_reader& r, const YAML::Node& n, UT& o) { r.set(n, a_timeout, o.data_block); }},
    field<UT>{"data_final", [](file_reader& r, const YAML::Node& n, UT& o) { r.set(n, a_timeout, o.data_final); }},
    field<UT>{"tls_handshake", [](file_reader& r, const YAML::Node& n, UT& o) { r.set(n, a_timeout, o.tls_handshake); }},
};

using T = timeouts;
constexpr std::array timeout_fields{
    field<T>{"client",
             [](file_reader& r, const YAML::Node& n, T& o) { read_mapping(r, n, "timeouts.client", client_timeout_fields, o.client); }},
    field<T>{"upstream", [](file_reader& r, const YAML::Node& n, T& o) {
                 read_mapping(r, n, "timeouts.upstream", upstream_timeout_fields, o.upstream);
             }},
    field<T>{"shutdown_drain", [](file_reader& r, const YAML::Node& n, T& o) { r.set(n, a_timeout, o.shutdown_drain); }},
};

using LG = logging;
constexpr std::array logging_fields{
    field<LG>{"level", [](file_reader& r, const YAML::Node& n, LG& o) { r.set(n, an_enum<log_level>, o.level); }},
    field<LG>{"format", [](file_reader& r, const YAML::Node& n, LG& o) { r.set(n, an_enum<log_format>, o.format); }},
    field<LG>{"target", [](file_reader& r, const YAML::Node& n, LG& o) { r.set(n, an_enum<log_target>, o.target); }},
};

using M = metrics;
constexpr std::array metrics_fields{
    field<M>{"listen", [](file_reader& r, const YAML::Node& n, M& o) { r.set(n, a_listen_address, o.listen); }, true},
    field<M>{"bearer_token_file",
             [](file_reader& r, const YAML::Node& n, M& o) { r.set_path(n, path_check::file, o.bearer_token_file); }},
    field<M>{"basic_auth_file",
             [](file_reader& r, const YAML::Node& n, M& o) { r.set_path(n, path_check::file, o.basic_auth_file); }},
    field<M>{"allow_unauthenticated",
             [](file_reader& r, const YAML::Node& n, M& o) { r.set(n, a_bool, o.allow_unauthenticated); }},
};

using P = process_settings;
constexpr std::array process_fields{
    field<P>{"io_threads", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, an_io_thread_count, o.io_threads); }},
    field<P>{"user", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, an_account_name, o.user); }},
    field<P>{"group", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, an_account_name, o.group); }},
    field<P>{"allow_root", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, a_bool, o.allow_root); }},
    field<P>{"running_config",
             [](file_reader& r, const YAML::Node& n, P& o) { r.set_path(n, path_check::none, o.running_config); }},
};

using O = outbound_routing;
constexpr std::array outbound_fields{
    field<O>{"dns_servers", [](file_reader& r, const YAML::Node& n, O& o) { r.set_list(n, a_dns_server, o.dns_servers); }},
    field<O>{"dns_timeout", [](file_reader& r, const YAML::Node& n, O& o) { r.set(n, a_timeout, o.dns_timeout); }},
    field<O>{"dns_tries", [](file_reader& r, const YAML::Node& n, O& o) { r.set(n, a_count, o.dns_tries); }},
    field<O>{"trust_anchors",
             [](file_reader& r, const YAML::Node& n, O& o) { r.set_path_list(n, path_check::file, o.trust_anchors); }},
    field<O>{"mx_port", [](file_reader& r, const YAML::Node& n, O& o) { r.set(n, a_port, o.mx_port); }},
    field<O>{"max_mx_hosts", [](file_reader& r, const YAML::Node& n, O& o) { r.set(n, a_count, o.max_mx_hosts); }},
    field<O>{"max_addresses_per_host",
             [](file_reader& r, const YAML::Node& n, O& o) { r.set(n, a_count, o.max_addresses_per_host); }},
    field<O>{"address_order", [](file_reader& r, const YAML::Node& n, O& o) { r.set(n, an_enum<address_order>, o.order); }},
};

}  // namespace

void read_logging(file_reader& r, const YAML::Node& node, config& out) {
    read_mapping(r, node, "logging", logging_fields, out.log);
}

void read_metrics(file_reader& r, const YAML::Node& node, config& out) {
    read_mapping(r, node, "metrics", metrics_fields, out.metric);
}

void read_process(file_reader& r, const YAML::Node& node, config& out) {
    read_mapping(r, node, "process", process_fields, out.process);
    if (out.process.group && !out.process.user)
        r.error(node, "`group` needs `user`: the group is switched to together with the user");
}

void read_limits(file_reader& r, const YAML::Node& node, config& out) {
    read_mapping(r, node, "limits", limit_fields, out.limit);
}

void read_timeouts(file_reader& r, const YAML::Node& node, config& out) {
    read_mapping(r, node, "timeouts", timeout_fields, out.timeout);
}

void read_outbound(file_reader& r, const YAML::Node& node, config& out) {
    read_mapping(r, node, "outbound", outbound_fields, out.outbound);
}

}  // namespace dsproxy::config
