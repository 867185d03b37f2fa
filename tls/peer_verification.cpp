// peer_verification — see peer_verification.hpp.
#include "tls/peer_verification.hpp"

#include "tls/certificate_info.hpp"
#include "tls/certificate_names.hpp"

#include <openssl/err.h>

#include <ostream>

namespace dsproxy::tls {

namespace {

chain_verdict classify(int error) {
    switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED: return chain_verdict::expired;
    case X509_V_ERR_CERT_NOT_YET_VALID: return chain_verdict::not_yet_valid;
    case X509_V_ERR_CERT_REVOKED: return chain_verdict::revoked;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER: return chain_verdict::crl_missing;
    case X509_V_ERR_CRL_HAS_EXPIRED: return chain_verdict::crl_expired;
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE: return chain_verdict::crl_invalid;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: return chain_verdict::bad_signature;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED: return chain_verdict::untrusted;
    default: return chain_verdict::invalid;
    }
}

// Collects instead of stopping: every problem is recorded, and OpenSSL goes
// on so that all of them are found; the decision is made afterwards.
int collect_problem(int ok, X509_STORE_CTX* ctx) {
    if (ok) return 1;
    auto* problems = static_cast<std::vector<chain_problem>*>(X509_STORE_CTX_get_app_data(ctx));
    const int error = X509_STORE_CTX_get_error(ctx);
    chain_problem p;
    p.verdict = classify(error);
    p.depth = X509_STORE_CTX_get_error_depth(ctx);
    p.text = X509_verify_cert_error_string(error);
    if (X509* c = X509_STORE_CTX_get_current_cert(ctx)) p.subject = describe(*c).subject;
    problems->push_back(std::move(p));
    return 1;
}

std::vector<chain_problem> check_chain(X509& leaf, STACK_OF(X509)* untrusted, const trust_store& trust,
                                       const verify_request& request) {
    std::vector<chain_problem> problems;
    x509_store_ctx_ptr ctx(X509_STORE_CTX_new());
    if (!ctx || !X509_STORE_CTX_init(ctx.get(), trust.get(), &leaf, untrusted)) {
        problems.push_back({chain_verdict::invalid, 0, {}, "cannot set up chain verification"});
        ERR_clear_error();
        return problems;
    }
    X509_STORE_CTX_set_app_data(ctx.get(), &problems);
    X509_STORE_CTX_set_verify_cb(ctx.get(), collect_problem);
    X509_STORE_CTX_set_purpose(ctx.get(), request.role == peer_role::server ? X509_PURPOSE_SSL_SERVER
                                                                            : X509_PURPOSE_SSL_CLIENT);
    if (trust.has_crls())
        X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_CRL_CHECK | (request.crl_check_all ? X509_V_FLAG_CRL_CHECK_ALL : 0));
    if (request.at) X509_STORE_CTX_set_time(ctx.get(), 0, *request.at);
    if (X509_verify_cert(ctx.get()) != 1 && problems.empty())
        problems.push_back({classify(X509_STORE_CTX_get_error(ctx.get())), 0, {},
                            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))});
    ERR_clear_error();
    return problems;
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

}  // namespace

std::string_view to_string(chain_verdict v) noexcept {
    switch (v) {
    case chain_verdict::ok: return "ok";
    case chain_verdict::not_checked: return "not checked";
    case chain_verdict::no_certificate: return "no certificate";
    case chain_verdict::untrusted: return "untrusted";
    case chain_verdict::expired: return "expired";
    case chain_verdict::not_yet_valid: return "not yet valid";
    case chain_verdict::revoked: return "revoked";
    case chain_verdict::crl_missing: return "CRL missing";
    case chain_verdict::crl_expired: return "CRL expired";
    case chain_verdict::crl_invalid: return "CRL invalid";
    case chain_verdict::bad_signature: return "bad signature";
    case chain_verdict::invalid: return "invalid";
    }
    return "?";
}

std::ostream& operator<<(std::ostream& os, chain_verdict v) { return os << to_string(v); }

verification_result verify_peer(X509* leaf, STACK_OF(X509)* untrusted, const trust_store& trust,
                                const verify_request& request) {
    verification_result r;
    if (!leaf) {
        r.chain = chain_verdict::no_certificate;
        r.passed = !request.check_chain && !request.domain && !request.host;
        if (!r.passed) r.reason = "the peer presented no certificate";
        return r;
    }
    const certificate_info info = describe(*leaf);
    r.subject = info.subject;
    r.issuer = info.issuer;
    r.sha256 = info.sha256;

    r.problems = check_chain(*leaf, untrusted, trust, request);
    r.chain = r.problems.empty() ? chain_verdict::ok : r.problems.front().verdict;

    const certificate_names names = extract_names(*leaf);
    r.presented = names.names.dns_names;
    if (r.presented.empty() || request.cns == matching::cn_fallback::always)
        r.presented.insert(r.presented.end(), names.names.common_names.begin(), names.names.common_names.end());
    if (request.domain)
        r.domain_match = matching::match(*request.domain, names.names, {matching::rule_set::domain, request.cns});
    if (request.host)
        r.host_match = matching::match(*request.host, names.names, {matching::rule_set::host, request.cns});

    if (request.check_chain && r.chain != chain_verdict::ok) {
        const auto& p = r.problems.front();
        r.reason = "certificate chain " + std::string(to_string(p.verdict)) + ": " + p.text +
                   (p.subject.empty() ? "" : " (depth " + std::to_string(p.depth) + ", " + p.subject + ")");
    } else if (r.domain_match && !r.domain_match->matched) {
        r.reason = "name mismatch: none of the names presented (" + join(r.presented) + ") matches domain " +
                   request.domain->text() + " by the Domain Security rules";
    } else if (r.host_match && !r.host_match->matched) {
        r.reason = "name mismatch: none of the names presented (" + join(r.presented) + ") matches host " +
                   request.host->text();
    } else {
        r.passed = true;
    }
    return r;
}

verification_result verify_peer(SSL& ssl, const trust_store& trust, const verify_request& request) {
    return verify_peer(SSL_get0_peer_certificate(&ssl), SSL_get_peer_cert_chain(&ssl), trust, request);
}

}  // namespace dsproxy::tls
