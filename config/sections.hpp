// sections — one reader per top-level section of the configuration files.
//
// Owns: the key tables of every section (which keys exist, which are
// required, which value kind each takes) and the checks that concern a single
// section (e.g. `tls_domain` below level `domain`).
// Must not: check one section against another (that is loader.cpp, once all
// files are read) or do I/O beyond the path checks of yaml_reader.
#pragma once

#include "config/model.hpp"
#include "config/yaml_reader.hpp"

#include <string_view>

namespace dsproxy::config {

// sections_runtime.cpp
void read_logging(file_reader& r, const YAML::Node& node, config& out);
void read_metrics(file_reader& r, const YAML::Node& node, config& out);
void read_process(file_reader& r, const YAML::Node& node, config& out);
void read_limits(file_reader& r, const YAML::Node& node, config& out);
void read_timeouts(file_reader& r, const YAML::Node& node, config& out);
void read_outbound(file_reader& r, const YAML::Node& node, config& out);
void read_store(file_reader& r, const YAML::Node& node, config& out);
void read_tls_reporting(file_reader& r, const YAML::Node& node, config& out);

// sections_server.cpp
void read_listeners(file_reader& r, const YAML::Node& node, config& out);
void read_upstreams(file_reader& r, const YAML::Node& node, config& out);
void read_certificates(file_reader& r, const YAML::Node& node, config& out);
void read_trust(file_reader& r, const YAML::Node& node, config& out);

// sections_policy.cpp. Both merge across files: an entry defined twice, in
// one file or two, is an error naming both places.
void read_accepted_domains(file_reader& r, const YAML::Node& node, config& out);
void read_policies(file_reader& r, const YAML::Node& node, config& out);
// One policy mapping (`what` names it in messages); `route` is refused when
// `allow_route` is false (an upstream's own TLS policy).
void read_policy(file_reader& r, const YAML::Node& node, std::string_view what, bool allow_route,
                 domain_policy& out);

}  // namespace dsproxy::config
