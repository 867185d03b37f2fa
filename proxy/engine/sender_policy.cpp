// sender_policy — see sender_policy.hpp.
#include "proxy/engine/sender_policy.hpp"

#include "matching/name_matcher.hpp"
#include "matching/idn.hpp"

namespace dsproxy::engine {

namespace {

using smtp::make_reply;

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
    return out;
}

// The names a certificate presents for the log: its dNSNames, and its CNs
// when it has none (or when the policy matches CNs always).
std::vector<std::string> presented(const smtp::tls_facts& t, matching::cn_fallback cns) {
    std::vector<std::string> out = t.dns_names;
    if (out.empty() || cns == matching::cn_fallback::always)
        out.insert(out.end(), t.common_names.begin(), t.common_names.end());
    return out;
}

}  // namespace

sender_judgement judge_sender(const sender_check& c) {
    sender_judgement j;
    const config::domain_policy& p = *c.policy;
    if (p.level <= config::tls_level::opportunistic) return j;
    j.checked = true;
    const bool reject = p.on_failure == config::failure_action::reject;
    const bool testing = p.mode == config::policy_mode::testing;
    const auto refuse = [&](smtp::reply r, std::string why, std::string_view label = {}) {
        j.outcome = testing ? sender_outcome::would_refuse : sender_outcome::refused;
        j.reply = std::move(r);
        j.reason = std::move(why);
        j.failure_label = label;
        return j;
    };
    // What on_failure makes of a failure: the sender retries (4xx) or the
    // message bounces (5xx). Something missing (TLS, a certificate) and
    // something not accepted (version, cipher, chain, names) differ in code.
    const auto missing = [&](const std::string& text) {
        return reject ? make_reply(530, "5.7.1 " + text) : make_reply(454, "4.7.0 " + text);
    };
    const auto not_accepted = [&](const std::string& text) {
        return reject ? make_reply(550, "5.7.1 " + text) : make_reply(454, "4.7.5 " + text);
    };

    // Row 1: no TLS on this session.
    if (!c.tls) {
        if (!c.tls_possible)
            return refuse(make_reply(454, "4.7.0 TLS not available"), "TLS required but not available on this listener");
        std::string why = c.starttls_offered ? "STARTTLS offered but not used" : "TLS required";
        // docs/design.md §6.2 gives domain-secure on_failure's 454 4.7.0 / 530 5.7.1;
        // the lower levels keep RFC 3207's 530 5.7.0.
        if (p.level == config::tls_level::domain_secure)
            return refuse(missing("Must issue a STARTTLS command first"), std::move(why));
        return refuse(make_reply(530, "5.7.0 Must issue a STARTTLS command first"), std::move(why));
    }
    const smtp::tls_facts& t = *c.tls;
    // Row 2: the policy's min_tls and ciphers bind the client's leg as they
    // bind a next hop's (docs/design.md §6.1: either direction). `ciphers` is an
    // OpenSSL list, which governs TLS 1.2; TLS 1.3 suites are all AEAD.
    if (p.min_tls == config::tls_version::v1_3 && t.version != smtp::tls_version::tls1_3)
        return refuse(not_accepted("TLS version not accepted for this sender domain"),
                      t.protocol + " is below the policy's min_tls 1.3");
    if (c.ciphers && t.version == smtp::tls_version::tls1_2 && !c.ciphers->contains(t.cipher))
        return refuse(not_accepted("TLS cipher not accepted for this sender domain"),
                      "cipher " + t.cipher + " is not in the policy's ciphers");
    if (p.level == config::tls_level::encrypt) return j;
    // Row 3: from validate up, a client certificate (docs/design.md §6.2: what was missing, per on_failure).
    if (!t.client_certificate_presented)
        return refuse(missing("A client certificate is required for this sender domain"),
                      "no client certificate");
    const std::string certificate_refused = "Client certificate not accepted for this sender domain";
    const auto names = presented(t, p.cn_fallback);
    const std::string names_note = names.empty() ? "" : "; names presented: " + join(names);
    // Row 4: its chain, against the policy's trust (its own ca_file, else the global one).
    const smtp::chain_check* chain = c.trust < t.chains.size() ? &t.chains[c.trust] : nullptr;
    if (!chain) return refuse(not_accepted(certificate_refused), "certificate chain not checked against the policy's trust" + names_note, "other");
    if (!chain->verified) return refuse(not_accepted(certificate_refused), chain->problem + names_note, chain->label);
    // Row 5: from domain up, its names by the Domain Security rules (docs/design.md §5).
    if (p.level >= config::tls_level::domain) {
        if (const auto reference = matching::reference_name::parse(p.tls_domain.value_or(c.domain))) {
            const auto m = matching::match(*reference, {t.dns_names, t.common_names},
                                           {matching::rule_set::domain, p.cn_fallback});
            if (!m.matched)
                return refuse(not_accepted(certificate_refused),
                              "name mismatch: none of the names presented (" + join(names) + ") matches domain " +
                                  reference->text() + " by the Domain Security rules" + names_note,
                              "domain name mismatch");
            j.matched_name = m.matched_name;
            j.rule = matching::to_string(m.how);
        }
        j.domain_secured = true;
    }
    return j;
}

}  // namespace dsproxy::engine
