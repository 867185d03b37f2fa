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
    case dns_status::malformed: return "malformed";
    case dns_status::bogus: return "bogus";
    case dns_status::cancelled: return "cancelled";
    case dns_status::failure: return "failure";
    }
    return "failure";
}

std::string_view to_string(dnssec d) noexcept {
    switch (d) {
    case dnssec::secure: return "secure";
    case dnssec::insecure: return "insecure";
    case dnssec::bogus: return "bogus";
    case dnssec::failure: return "failure";
    }
    return "failure";
}

address_answer combine_families(const std::optional<family_answer>& ipv4, const std::optional<family_answer>& ipv6,
                                std::vector<host_address> addresses) {
    address_answer a;
    // A family not asked is a negative answer for the combination rule.
    a.ipv4_status = ipv4 ? ipv4->status : dns_status::nodata;
    a.ipv6_status = ipv6 ? ipv6->status : dns_status::nodata;
    a.secure = (ipv4 || ipv6) && (!ipv4 || ipv4->secure) && (!ipv6 || ipv6->secure);
    a.canonical = ipv4 && !ipv4->canonical.empty() ? ipv4->canonical : ipv6 ? ipv6->canonical : std::string();
    a.addresses = std::move(addresses);
    const dns_status ipv4_status = a.ipv4_status, ipv6_status = a.ipv6_status;
    if (!a.addresses.empty()) {
        a.status = dns_status::ok;
    } else if (!is_negative_answer(ipv4_status) && ipv4_status != dns_status::ok) {
        a.status = ipv4_status;  // temporary trouble wins: never bounce on it
    } else if (!is_negative_answer(ipv6_status) && ipv6_status != dns_status::ok) {
        a.status = ipv6_status;
    } else if ((!ipv4 || ipv4_status == dns_status::nxdomain) && (!ipv6 || ipv6_status == dns_status::nxdomain)) {
        a.status = dns_status::nxdomain;
    } else {
        a.status = dns_status::nodata;  // "ok" with no address counts as no data
    }
    return a;
}

address_answer combine_families(dns_status ipv4_status, dns_status ipv6_status, std::vector<host_address> addresses) {
    return combine_families(family_answer{ipv4_status, false, {}}, family_answer{ipv6_status, false, {}},
                            std::move(addresses));
}

}  // namespace dsproxy::routing
