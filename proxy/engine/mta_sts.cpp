// mta_sts — see mta_sts.hpp.
#include "proxy/engine/mta_sts.hpp"

#include "proxy/routing/dns_rdata.hpp"

namespace dsproxy::engine {

sts::txt_lookup txt_lookup_of(const routing::rdata_answer& answer) {
    sts::txt_lookup out;
    switch (answer.status) {
    case routing::dns_status::ok: {
        out.answered = true;
        std::vector<std::string> texts;
        for (const auto& rd : answer.rdata)
            if (auto t = routing::decode_txt(rd)) texts.push_back(std::move(*t));
        out.record = sts::select_sts_record(texts);
        break;
    }
    case routing::dns_status::nxdomain:
    case routing::dns_status::nodata:
        out.answered = true;
        out.record.status = sts::record_status::none;
        break;
    default: break;  // we do not know: the cache decides alone
    }
    return out;
}

std::optional<sts::known_policy> known_of(const store::cached_policy& row) {
    auto parsed = sts::parse_policy(row.body);
    if (!parsed.policy) return std::nullopt;
    return sts::known_policy{row.id, std::move(*parsed.policy), row.body, row.fetched_at, row.expires_at};
}

store::cached_policy row_of(const std::string& domain, const sts::known_policy& policy) {
    return {domain, policy.id, policy.body, policy.fetched_at, policy.expires_at};
}

sts_application apply_policy(const sts::sts_outcome& outcome, const std::vector<std::string>& hosts,
                             const std::vector<bool>& dane_authenticated) {
    sts_application a;
    a.state = outcome.state;
    const bool applies = outcome.policy &&
                         (outcome.state == sts::sts_state::enforce || outcome.state == sts::sts_state::testing);
    if (outcome.policy) a.id = outcome.policy->id;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        if (applies && !outcome.policy->policy.allows(hosts[i])) {
            a.not_listed.push_back(hosts[i]);
            const bool dane = i < dane_authenticated.size() && dane_authenticated[i];
            if (outcome.state == sts::sts_state::enforce && !dane) continue;  // RFC 8461 §4.1: never used
        }
        a.hosts.push_back(i);
    }
    if (!applies) return a;
    a.check_certificate = true;
    a.requirement = outcome.state == sts::sts_state::enforce ? destination_requirement::enforce
                                                             : destination_requirement::testing;
    return a;
}

tls::verify_request sts_verify_request(const std::string& mx_host) {
    tls::verify_request r;
    r.check_chain = true;
    r.host = matching::reference_name::parse(mx_host);
    return r;
}

sts::result_type report_failure(const tls::verification_result& r) {
    switch (r.chain) {
    case tls::chain_verdict::ok:
    case tls::chain_verdict::not_checked: break;
    case tls::chain_verdict::expired:
    case tls::chain_verdict::not_yet_valid: return sts::result_type::certificate_expired;
    case tls::chain_verdict::no_certificate:
    case tls::chain_verdict::untrusted:
    case tls::chain_verdict::bad_signature: return sts::result_type::certificate_not_trusted;
    default: return sts::result_type::validation_failure;
    }
    if (r.host_match && !r.host_match->matched) return sts::result_type::certificate_host_mismatch;
    return sts::result_type::validation_failure;
}

std::string sts_log_value(bool looked_up, sts::sts_state state, std::optional<bool> passed) {
    if (!looked_up) return "off";
    if (state != sts::sts_state::enforce && state != sts::sts_state::testing) return std::string(sts::to_string(state));
    return std::string(sts::to_string(state)) + (passed.value_or(false) ? "-ok" : "-failed");
}

}  // namespace dsproxy::engine
