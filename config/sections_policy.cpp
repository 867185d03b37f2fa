// sections_policy — accepted_domains and the per-domain policy table
// (docs/design.md §1, §6). See sections.hpp; defaults live in policy.hpp.
//
// Both tables merge across every file read: the same domain written twice —
// in one file or in two, in any spelling that normalises alike
// (`Contoso.COM.` = `contoso.com`) — is an error naming both places, so the
// result never depends on which file happened to be read last.
#include "config/sections.hpp"

#include "config/value_kinds.hpp"

namespace dsproxy::config {

namespace {

// The reserved key of the policy table for domains with no entry.
constexpr std::string_view default_key = "default";

using P = domain_policy;
// Every key of docs/design.md §6.1 (and cn_fallback of §5). `level` is required so
// that an entry always states its security level in words.
constexpr std::array policy_fields{
    field<P>{"level", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, an_enum<tls_level>, o.level); }, true},
    field<P>{"on_failure", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, an_enum<failure_action>, o.on_failure); }},
    field<P>{"mode", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, an_enum<policy_mode>, o.mode); }},
    field<P>{"tls_domain", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, a_domain_name, o.tls_domain); }},
    field<P>{"match_host", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, a_bool, o.match_host); }},
    field<P>{"min_tls", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, an_enum<tls_version>, o.min_tls); }},
    field<P>{"ciphers", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, a_text, o.ciphers); }},
    field<P>{"ca_file", [](file_reader& r, const YAML::Node& n, P& o) { r.set_path(n, path_check::file, o.ca_file); }},
    field<P>{"crl", [](file_reader& r, const YAML::Node& n, P& o) { r.set_path_list(n, path_check::file, o.crl); }},
    field<P>{"client_certificate",
             [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, a_certificate_ref, o.client_certificate); }},
    field<P>{"cn_fallback",
             [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, an_enum<matching::cn_fallback>, o.cn_fallback); }},
    field<P>{"route", [](file_reader& r, const YAML::Node& n, P& o) { r.set_list(n, a_next_hop, o.route); }},
    field<P>{"dane", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, an_enum<dane_mode>, o.dane); }},
    field<P>{"mta_sts", [](file_reader& r, const YAML::Node& n, P& o) { r.set(n, an_enum<mta_sts_mode>, o.mta_sts); }},
};

// Keys that only make sense from some level up, as (key, minimum level).
// Below it they would be silently ignored, which hides a mistake.
struct level_requirement {
    std::string_view key;
    tls_level minimum;
    bool (*present)(const domain_policy&);
};
constexpr std::array level_requirements{
    level_requirement{"tls_domain", tls_level::domain, [](const P& p) { return p.tls_domain.has_value(); }},
    level_requirement{"match_host", tls_level::validate, [](const P& p) { return p.match_host; }},
};

}  // namespace

void read_policy(file_reader& r, const YAML::Node& node, std::string_view what, bool allow_route,
                 domain_policy& out) {
    const auto before = r.key_where();  // the entry's key: where the administrator looks
    read_mapping(r, node, what, policy_fields, out);
    if (!allow_route && !out.route.empty())
        r.error_at(before, "`route` is not allowed in " + std::string(what) + ": the upstream's `hosts` are its route");
    if (!allow_route && out.mta_sts != mta_sts_mode::opportunistic)
        r.error_at(before, "`mta_sts` is not allowed in " + std::string(what) +
                               ": MTA-STS applies to a recipient domain's MX hosts, not to an upstream");
    for (const auto& req : level_requirements)
        if (req.present(out) && out.level < req.minimum)
            r.error_at(before, "`" + std::string(req.key) + "` in " + std::string(what) + " needs level `" +
                                   std::string(to_name(req.minimum)) + "` or higher, but the level is `" +
                                   std::string(to_name(out.level)) + "`");
}

void read_policies(file_reader& r, const YAML::Node& node, config& out) {
    r.walk_named(node, "policies", [&](const YAML::Node& key, const YAML::Node& value) {
        domain_policy policy;
        policy.where = r.where(key);
        const std::string& text = key.Scalar();
        if (text == default_key) {
            read_policy(r, value, "the default policy", true, policy);
            const auto& previous = out.policies.fallback().where;
            if (!previous.file.empty()) {
                r.error(key, "the default policy is defined twice: here and at " + to_string(previous));
                return;
            }
            out.policies.set_default(std::move(policy));
            return;
        }
        std::string why;
        const auto domain = parse_domain_key(text, &why);
        read_policy(r, value, "policy `" + text + "`", true, policy);  // report its errors too
        if (!domain) {
            r.error(key, why);
            return;
        }
        if (const auto* previous = out.policies.insert(*domain, std::move(policy)))
            r.error(key, "domain `" + to_string(*domain) + "` is defined twice: here and at " +
                             to_string(previous->where));
    });
}

void read_accepted_domains(file_reader& r, const YAML::Node& node, config& out) {
    r.for_each_item(node, "a domain", [&](const YAML::Node& item) {
        const auto text = r.scalar(item, "a domain");
        if (!text) return;
        std::string why;
        const auto domain = parse_domain_key(*text, &why);
        if (!domain) {
            r.error(item, r.prefixed(why));
            return;
        }
        if (const auto* previous = out.accepted_domains.insert(*domain, r.where(item)))
            r.error(item, "accepted domain `" + to_string(*domain) + "` is listed twice: here and at " +
                              to_string(*previous));
    });
}

}  // namespace dsproxy::config
