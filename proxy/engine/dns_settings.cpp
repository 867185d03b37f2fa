// dns_settings — see the header.
#include "proxy/engine/dns_settings.hpp"

namespace dsproxy::engine {

net::resolver_settings resolver_settings_for(const config::outbound_routing& o) {
    net::resolver_settings rs;
    for (const auto& hp : o.dns_servers) rs.servers.push_back(config::to_string(hp));
    rs.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(o.dns_timeout);
    rs.tries = static_cast<int>(o.dns_tries);
    rs.trust_anchors = o.trust_anchors;
    return rs;
}

std::optional<std::string> check_dns_settings(const config::outbound_routing& o) {
    if (auto problem = net::check_resolver_settings(resolver_settings_for(o))) return "outbound DNS: " + *problem;
    return std::nullopt;
}

}  // namespace dsproxy::engine
