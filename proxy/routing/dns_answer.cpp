// dns_answer — names of DNS statuses and the A+AAAA combination rule.
#include "proxy/routing/dns_answer.hpp"

namespace dsproxy::routing {

std::string_view to_string(dns_status s) noexcept {
    switch (s) {
    case dns_status::ok: return "ok";
    case dns_status::nxdomain: return "nxdomain";
    case dns_status::nodata: return "nodata";
    case dns_status::servfail: return "servfail";
    case dns_status::timeout: return "timeout";
    case dns_status::refused: return "refused";
    case dns_status::servers_failed: return "servers-failed";
    case dns_status::malformed: return "malformed";
    case dns_status::cancelled: return "cancelled";
    case dns_status::failure: return "failure";
    }
    return "failure";
}

address_answer combine_families(dns_status ipv4_status, dns_status ipv6_status,
                                std::vector<host_address> addresses) {
    address_answer a;
    a.ipv4_status = ipv4_status;
    a.ipv6_status = ipv6_status;
    a.addresses = std::move(addresses);
    if (!a.addresses.empty()) {
        a.status = dns_status::ok;
    } else if (!is_negative_answer(ipv4_status) && ipv4_status != dns_status::ok) {
        a.status = ipv4_status;  // temporary trouble wins: never bounce on it
    } else if (!is_negative_answer(ipv6_status) && ipv6_status != dns_status::ok) {
        a.status = ipv6_status;
    } else if (ipv4_status == dns_status::nxdomain && ipv6_status == dns_status::nxdomain) {
        a.status = dns_status::nxdomain;
    } else {
        a.status = dns_status::nodata;  // "ok" with no address counts as no data
    }
    return a;
}

}  // namespace dsproxy::routing
