// dns_settings — the resolver settings of a configuration snapshot (docs/design.md §6.4).
//
// Owns: the one translation config::outbound_routing -> net::resolver_settings
// (forwarders, timeout and tries, trust anchors), shared by `dsproxy run`
// (each snapshot's resolvers), `probe` and `check-config`, so the three
// always ask the same servers with the same anchors.
// Must not: send queries.
#pragma once

#include "config/model.hpp"
#include "proxy/net/dns_resolver.hpp"

#include <optional>
#include <string>

namespace dsproxy::engine {

net::resolver_settings resolver_settings_for(const config::outbound_routing& o);

// The settings of `o` load into a validator (every trust anchor readable and
// well-formed): nullopt, or one sentence for check-config, start and reload.
std::optional<std::string> check_dns_settings(const config::outbound_routing& o);

}  // namespace dsproxy::engine
