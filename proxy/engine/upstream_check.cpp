// upstream_check — see upstream_check.hpp.
#include "proxy/engine/upstream_check.hpp"

#include "proxy/log/value.hpp"

namespace dsproxy::engine {

upstream_verdict judge_upstream_certificate(SSL& ssl, const upstream_settings& u, const std::string& host) {
    upstream_verdict out;
    out.summary = "unchecked";
    if (!u.trust) return out;
    tls::verify_request request = u.verify;
    if (u.match_host) request.host = matching::reference_name::parse(host);
    out.checked = true;
    out.result = tls::verify_peer(ssl, *u.trust, request);
    const auto& v = out.result;
    // Below validate nothing is required: the findings are only logged.
    out.passed = v.passed || (!request.check_chain && !request.domain && !request.host);
    out.summary = std::string(verdict_word(out)) + " subject=" + log::value(v.subject) +
                  " issuer=" + log::value(v.issuer) + " sha256=" + v.sha256;
    if (v.domain_match && v.domain_match->matched)
        out.summary += " matched=" + log::value(v.domain_match->matched_name) + " rule=" +
                       std::string(matching::to_string(v.domain_match->how));
    if (!v.passed) {
        out.summary += " reason=" + log::value(v.reason);
        out.reason = "certificate check failed: " + v.reason;
    }
    return out;
}

std::string_view verdict_word(const upstream_verdict& v) noexcept {
    if (!v.checked) return "unchecked";
    return v.result.passed ? "passed" : "failed";
}

std::string_view failure_label(const tls::verification_result& v) {
    if (v.chain != tls::chain_verdict::ok && v.chain != tls::chain_verdict::not_checked) return tls::to_string(v.chain);
    if (v.domain_match && !v.domain_match->matched) return "domain name mismatch";
    if (v.host_match && !v.host_match->matched) return "host name mismatch";
    return "other";
}

smtp::reply policy_failure_reply(const upstream_settings& u, const std::string& domain, const std::string& reason) {
    // Inbound has no route domain: the policy is the backend's.
    const std::string whose = domain.empty() ? "upstream " + u.name : domain;
    return u.reject_on_policy_failure
               ? smtp::make_reply(550, "5.7.1 TLS policy for " + whose + " not satisfied: " + reason)
               : smtp::make_reply(451, "4.7.5 TLS policy for " + whose + " not satisfied, try again later: " + reason);
}

}  // namespace dsproxy::engine
