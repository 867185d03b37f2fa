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

smtp::reply policy_failure_reply(const upstream_settings& u, const std::string& domain, const std::string& reason,
                                 std::string_view session_id, bool destination) {
    const bool reject = u.reject_on_policy_failure && !destination;
    if (domain.empty()) {
        const std::string session = " (session " + smtp::reply_safe(session_id, 32) + ")";
        return reject ? smtp::make_reply(550, "5.7.1 TLS policy of the upstream not satisfied" + session)
                      : smtp::make_reply(451, "4.7.5 TLS policy of the upstream not satisfied, try again later" + session);
    }
    // RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets, "NNN " and CRLF included.
    constexpr std::size_t text_max = 512 - 4 - 2;
    const std::string head = reject ? "5.7.1 TLS policy for " + smtp::reply_safe(domain, 255) + " not satisfied: "
                                    : "4.7.5 TLS policy for " + smtp::reply_safe(domain, 255) +
                                          " not satisfied, try again later: ";
    const std::string text = head + smtp::reply_safe(reason, text_max > head.size() ? text_max - head.size() : 0);
    return smtp::make_reply(reject ? 550 : 451, text);
}

std::optional<smtp::reply> client_certificate_refusal(const upstream_settings& u, const std::string& domain,
                                                      std::string_view session_id) {
    if (u.client_certificate_problem.empty() || u.floor.testing) return std::nullopt;
    return policy_failure_reply(u, domain, std::string(no_client_certificate), session_id);
}

}  // namespace dsproxy::engine
