// dane_check — see dane_check.hpp.
#include "proxy/engine/dane_check.hpp"

namespace dsproxy::engine {

asio::awaitable<host_dane_check> check_host_dane(net::dns_resolver& resolver, config::dane_mode mode,
                                                 const routing::next_hop& hop, const std::string& next_hop_domain,
                                                 const net::tlsa_answers& early) {
    dane::tlsa_lookup lookup(mode, hop, next_hop_domain);
    while (auto name = lookup.next_query()) {
        if (const auto found = early.find(*name); found != early.end())
            lookup.on_answer(found->second);
        else
            lookup.on_answer(co_await resolver.query_tlsa(*name));
    }
    host_dane_check out;
    out.facts = lookup.result();
    out.action = dane::action_of(mode, out.facts);
    co_return out;
}

destination_requirement published_by(const host_dane_check* check, destination_requirement otherwise) noexcept {
    if (!check) return otherwise;
    switch (check->action) {
    case dane::dane_action::authenticate:
    case dane::dane_action::encrypt:
    case dane::dane_action::refuse_host: return destination_requirement::enforce;
    case dane::dane_action::none: break;
    }
    return otherwise;
}

std::optional<tls::dane_request> dane_request_of(const host_dane_check& check) {
    if (check.action != dane::dane_action::authenticate) return std::nullopt;
    tls::dane_request r;
    r.base_domain = check.facts.base_domain;
    r.reference_names = check.facts.reference_names;
    for (const auto& record : check.facts.usable)
        r.records.push_back(tls::dane_tlsa{record.usage, record.selector, record.mtype, record.data});
    return r;
}

std::string refusal_reason(const host_dane_check& check) {
    const auto& f = check.facts;
    switch (f.state) {
    case dane::dane_state::lookup_failed: {
        std::string why = "TLSA lookup for " + f.base_domain + " failed: " +
                          std::string(routing::to_string(f.lookup_status));
        if (!f.why_bogus.empty()) why += " (" + f.why_bogus + ")";
        return why;
    }
    case dane::dane_state::unusable:
        return "dane: mandatory, but the TLSA records are all unusable";
    case dane::dane_state::not_applicable:
        return "dane: mandatory, but no DANE: " + std::string(dane::to_string(f.skipped));
    case dane::dane_state::usable: break;
    }
    return "refused by DANE";
}

std::string requirement_key(const host_dane_check* check) {
    if (!check || check->action == dane::dane_action::none) return {};
    std::string key(dane::to_string(check->action));
    if (check->action != dane::dane_action::authenticate) return key;
    key += " " + check->facts.base_domain;
    bool trust_anchor = false;
    for (const auto& r : check->facts.usable) {
        key += " " + dane::to_text(r, std::string::npos);
        trust_anchor = trust_anchor || r.usage == 2;
    }
    if (trust_anchor)
        for (const auto& n : check->facts.reference_names) key += " ref=" + n;
    return key;
}

std::string dane_detail(const host_dane_check* check, const std::optional<tls::dane_result>& result) {
    if (!check) return "not looked up";
    const auto& f = check->facts;
    switch (check->action) {
    case dane::dane_action::none:
        return f.skipped == dane::skip_reason::none ? std::string("not applicable")
                                                    : std::string(dane::to_string(f.skipped));
    case dane::dane_action::encrypt:
        return std::to_string(f.unusable.size() + f.malformed) + " unusable TLSA records: TLS without authentication";
    case dane::dane_action::refuse_host: return refusal_reason(*check);
    case dane::dane_action::authenticate: break;
    }
    if (!result) return std::to_string(f.usable.size()) + " usable TLSA records, no TLS";
    if (!result->matched) return "no TLSA record matched: " + result->reason;
    std::string out = std::to_string(result->usage) + " " + std::to_string(result->selector) + " " +
                      std::to_string(result->mtype) + " depth=" + std::to_string(result->depth);
    if (!result->peer_name.empty()) out += " name=" + result->peer_name;
    return out;
}

}  // namespace dsproxy::engine
