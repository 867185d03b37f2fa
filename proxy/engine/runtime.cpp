// runtime — see runtime.hpp.
#include "proxy/engine/runtime.hpp"

#include "proxy/engine/dns_settings.hpp"
#include "proxy/engine/engine_limits.hpp"
#include "proxy/engine/listener_start.hpp"
#include "proxy/engine/sender_policy.hpp"
#include "proxy/engine/upstream_check.hpp"
#include "proxy/log/logging.hpp"
#include "proxy/log/value.hpp"
#include "proxy/store/open_store.hpp"
#include "tls/auto_selfsigned.hpp"
#include "tls/certificate_selection.hpp"
#include "tls/client_certificate_choice.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace dsproxy::engine {

namespace {

tls::tls_settings tls_settings_for(const config::domain_policy& p) {
    tls::tls_settings s;
    s.min_version = p.min_tls == config::tls_version::v1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (!p.ciphers.empty()) s.ciphers = p.ciphers;
    return s;
}

// A policy's trust (docs/design.md §6.1): its own `ca_file` replaces the global
// anchors ("for this partner only"); its `crl` files are added to the global
// ones, which are checked for every verified chain.
std::shared_ptr<const tls::trust_store> trust_for(const config::domain_policy& p, const config::trust& global_settings,
                                                  const std::shared_ptr<const tls::trust_store>& global,
                                                  std::string& error) {
    if (!p.ca_file && p.crl.empty()) return global;
    tls::trust_settings settings = trust_settings_for(global_settings);
    if (p.ca_file) {
        settings.system = false;
        settings.ca_files = {*p.ca_file};
        settings.ca_dir.clear();
    }
    settings.crl_files.insert(settings.crl_files.end(), p.crl.begin(), p.crl.end());
    auto store = tls::trust_store::load(settings, error);
    if (!store) return nullptr;
    return std::make_shared<const tls::trust_store>(std::move(*store));
}

// One deadline per upstream reply, the configured one of its phase.
upstream_timeouts upstream_timeouts_from(const config::upstream_timeouts& t) {
    upstream_timeouts out;
    out.connect = t.connect;
    out.greeting = t.greeting;
    out.ehlo = t.ehlo;
    out.mail = t.mail;
    out.rcpt = t.rcpt;
    out.data_init = t.data_init;
    out.data_block = t.data_block;
    out.data_final = t.data_final;
    out.tls_handshake = t.tls_handshake;
    return out;
}

// What the upstream leg takes from a next hop: reply size, and unread bytes.
smtp::smtp_limits upstream_limits_from(const config::limits& l) {
    smtp::smtp_limits out;
    out.reply_line_max = l.reply_line_length;
    out.reply_lines_max = l.reply_lines;
    out.pending_input_max = l.pipelined_input;
    return out;
}

}  // namespace

tls::trust_settings trust_settings_for(const config::trust& t) {
    tls::trust_settings s;
    s.system = t.system;
    if (t.ca_file) s.ca_files.push_back(*t.ca_file);
    s.ca_dir = t.ca_dir.value_or("");
    s.crl_files = t.crl_files;
    return s;
}

tls::verify_request verify_request_for(const config::domain_policy& p, const std::string& domain) {
    tls::verify_request r;
    r.check_chain = p.level >= config::tls_level::validate;
    r.cns = p.cn_fallback;
    if (p.level >= config::tls_level::domain) {
        r.domain = matching::reference_name::parse(p.tls_domain.value_or(domain));
    }
    return r;
}

namespace {

// Every policy of the configuration, the default first, then in key order.
std::vector<const config::domain_policy*> all_policies(const config::config& cfg) {
    std::vector<const config::domain_policy*> out{&cfg.policies.fallback()};
    for (const auto& [key, p] : cfg.policies.entries().sorted()) out.push_back(p);
    return out;
}

std::string policy_where(const config::domain_policy& p) {
    return "policy " + (p.where.file.empty() ? std::string("default") : config::to_string(p.where));
}

// Which local certificate a client leg presents: `ref` when configured (a
// name or a pin), else the certificate for `fqdn` (docs/design.md §4.1).
tls::selection_policy client_certificate_policy(std::string fqdn, const std::optional<config::certificate_ref>& ref) {
    tls::selection_policy sp;
    sp.use = tls::certificate_use::client;
    sp.fqdn = std::move(fqdn);
    if (ref) {
        if (ref->by == config::certificate_ref::kind::name)
            sp.fqdn = ref->value;
        else
            sp.pin = ref->value;
    }
    return sp;
}

// What needs a client certificate, for the reason (client_certificate_choice.hpp).
std::string needed_by(const config::upstream& u) {
    return "upstream " + u.name +
           (u.tls.level == config::tls_level::domain_secure ? " (level domain-secure)" : " (client_certificate set)");
}

std::string needed_by(const config::listener& l, const config::domain_policy& p) {
    return policy_where(p) + " for listener " + l.name +
           (p.level == config::tls_level::domain_secure ? " (level domain-secure)" : " (client_certificate set)");
}

bool needs_client_certificate(const config::domain_policy& p) {
    return p.level == config::tls_level::domain_secure || p.client_certificate.has_value();
}

// The fqdn of the first listener that uses upstream `name`: the client
// certificate's name when none is configured (docs/design.md §6.1).
std::string upstream_fqdn(const config::config& cfg, const std::string& name) {
    for (const auto& l : cfg.listeners)
        if (l.upstream == name) return l.fqdn;
    return {};
}

}  // namespace

std::vector<std::string> client_certificate_problems(const config::config& cfg, const tls::certificate_store& store,
                                                     std::time_t now) {
    std::vector<std::string> out;
    for (const auto& u : cfg.upstreams) {
        if (!needs_client_certificate(u.tls)) continue;
        auto c = tls::choose_client_certificate(
            store, client_certificate_policy(upstream_fqdn(cfg, u.name), u.tls.client_certificate), needed_by(u), now);
        if (!c) out.push_back(std::move(c.problem));
    }
    for (const auto& l : cfg.listeners) {
        if (l.role != config::listener_role::outbound) continue;
        for (const auto* p : all_policies(cfg)) {
            if (!needs_client_certificate(*p)) continue;
            auto c = tls::choose_client_certificate(store, client_certificate_policy(l.fqdn, p->client_certificate),
                                                    needed_by(l, *p), now);
            if (!c) out.push_back(std::move(c.problem));
        }
    }
    return out;
}

std::vector<tls::store_source> store_sources(const config::certificate_store& c) {
    std::vector<tls::store_source> sources;
    for (const auto& f : c.files)
        sources.push_back({f.certificate, f.key, f.client_only ? tls::certificate_use::client : tls::certificate_use::server});
    for (const auto& d : c.directories) sources.push_back({d, {}, tls::certificate_use::server});
    return sources;
}

std::shared_ptr<const runtime> runtime::build(std::shared_ptr<const config::config> cfg, spdlog::logger& log,
                                              std::string& error) {
    auto rt = std::make_shared<runtime>();
    rt->cfg_ = cfg;
    if (!rt->load_trusts(error) || !rt->load_policy_ciphers(error)) return nullptr;
    auto store = rt->load_store(log);
    rt->add_self_signed(store, log);
    rt->store_ = std::make_shared<const tls::certificate_store>(std::move(store));
    auto tickets = rt->load_ticket_keys(error);
    if (!tickets) return nullptr;
    // A certificate made just now starts at the builder's clock, which may be
    // a second past the start of the build: choose with a fresh time, or a
    // first start can call its own new certificate "not yet valid".
    const std::time_t now = std::time(nullptr);
    if (!rt->build_listeners(tickets, log, now, error)) return nullptr;
    if (!rt->build_upstreams(now, error) || !rt->build_outbound(error) || !rt->build_sts(log, error))
        return nullptr;
    // Issue 15 item 1: said at every start and reload, as check-config says it.
    for (const auto& problem : client_certificate_problems(*cfg, *rt->store_, now))
        log.error("client certificate unusable: {}", log::printable(problem, limits::log_value));
    return rt;
}

bool runtime::build_sts(spdlog::logger& log, std::string& error) {
    if (!has_outbound_) return true;
    // The policy fetch's client context: the default TLS settings, the
    // `trust` section's anchors (WebPKI, RFC 8461 §3.3).
    auto https = tls::client_context::create({tls::tls_settings{}, trust_}, error);
    if (!https) return false;
    std::string why;
    auto policies = store::open_store(cfg_->store, why);
    if (!policies)
        log.warn("store: {}: MTA-STS policies are kept in memory only, TLS-RPT counts are not kept", why);
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || !*host) std::snprintf(host, sizeof host, "localhost");
    sts_service_settings settings;
    settings.fetch_deadline = limits::sts_fetch;
    settings.claim_hold = limits::sts_claim_hold_seconds;
    settings.owner = std::string(host) + "/" + std::to_string(::getpid());
    sts_ = std::make_shared<sts_service>(std::move(policies), trust_, std::move(*https), std::move(settings));
    return true;
}

bool runtime::load_trusts(std::string& error) {
    auto trust = tls::trust_store::load(trust_settings_for(cfg_->trust_store), error);
    if (!trust) return false;
    trust_ = std::make_shared<const tls::trust_store>(std::move(*trust));
    auto trusts = std::make_shared<policy_trusts>();
    for (const auto* p : all_policies(*cfg_)) {
        if (!p->ca_file && p->crl.empty()) continue;
        std::string why;
        auto t = trust_for(*p, cfg_->trust_store, trust_, why);
        if (!t) {
            error = policy_where(*p) + ": " + why;
            return false;
        }
        trusts->emplace(p, std::move(t));
    }
    // The chains a client certificate is checked against at the handshake:
    // the global trust, then each policy's own (docs/design.md §6.2).
    auto index = std::make_shared<std::map<const config::domain_policy*, std::size_t>>();
    client_trusts_.push_back(trust_.get());
    for (const auto& [p, t] : *trusts) {
        index->emplace(p, client_trusts_.size());
        client_trusts_.push_back(t.get());
    }
    policy_trust_index_ = std::move(index);
    policy_trusts_ = std::move(trusts);
    return true;
}

bool runtime::load_policy_ciphers(std::string& error) {
    auto ciphers = std::make_shared<policy_ciphers>();
    for (const auto* p : all_policies(*cfg_)) {
        if (p->ciphers.empty()) continue;
        std::string why;
        auto names = tls::tls12_cipher_names(p->ciphers, why);
        if (!names) {
            error = policy_where(*p) + ": ciphers: " + why;
            return false;
        }
        ciphers->emplace(p, std::set<std::string, std::less<>>(names->begin(), names->end()));
    }
    policy_ciphers_ = std::move(ciphers);
    return true;
}

tls::certificate_store runtime::load_store(spdlog::logger& log) {
    for (const auto& d : cfg_->certificates.directories) {
        std::error_code ec;
        if (std::filesystem::create_directories(d, ec)) created_.push_back(d);
    }
    const auto sources = store_sources(cfg_->certificates);
    std::vector<tls::load_problem> problems;
    auto store = tls::certificate_store::load(sources, {cfg_->certificates.allow_group_readable_keys, trust_.get()},
                                              problems);
    for (const auto& p : problems) log.error("certificate refused: {}: {}", p.path, p.detail);
    return store;
}

void runtime::add_self_signed(tls::certificate_store& store, spdlog::logger& log) {
    // docs/design.md §4.1: on first start, a self-signed certificate for a
    // listener fqdn that nothing in the store covers, as Exchange does at install.
    if (!cfg_->certificates.auto_selfsigned || cfg_->certificates.directories.empty()) return;
    std::vector<std::string> accepted;
    for (const auto& [key, where] : cfg_->accepted_domains.sorted())
        if (!key.subdomains) accepted.push_back(key.name);
    const std::time_t now = std::time(nullptr);
    for (const auto& l : cfg_->listeners) {
        if (l.tls == config::listener_tls::none || l.certificate) continue;
        tls::auto_selfsigned_request request;
        request.directory = cfg_->certificates.directories.front();
        request.fqdn = l.fqdn;
        request.accepted_domains = accepted;
        std::string why;
        auto made = tls::ensure_self_signed(store, request, now, why);
        if (!made) {
            log.error("listener {}: cannot create a self-signed certificate for {}: {}", l.name, l.fqdn, why);
            continue;
        }
        if (!made->created) continue;
        created_.push_back(made->certificate_path);
        created_.push_back(made->key_path);
        log.info("listener {}: created self-signed certificate {} for {} (key {}, mode 0600)", l.name,
                 made->certificate_path, l.fqdn, made->key_path);
        store.add(made->cert);
    }
}

std::shared_ptr<const tls::ticket_keys> runtime::load_ticket_keys(std::string& error) const {
    // Session ticket keys (docs/design.md §3, §8): the shared file, read at
    // every reload (rotation: a new key in front, then SIGHUP); else one
    // random key for this snapshot, shared by its listeners.
    if (!cfg_->certificates.ticket_key_file)
        return std::make_shared<const tls::ticket_keys>(tls::ticket_keys::generate());
    auto keys = tls::ticket_keys::load(*cfg_->certificates.ticket_key_file,
                                       cfg_->certificates.allow_group_readable_keys, error);
    if (!keys) return nullptr;
    return std::make_shared<const tls::ticket_keys>(std::move(*keys));
}

bool runtime::build_listeners(const std::shared_ptr<const tls::ticket_keys>& tickets, spdlog::logger& log,
                              std::time_t now, std::string& error) {
    for (const auto& l : cfg_->listeners) {
        listener_runtime lr;
        lr.spec = &l;
        if (l.tls != config::listener_tls::none) {
            tls::server_settings settings;
            std::string pin_file;
            settings.certificate = listener_certificate_policy(l, cfg_->certificates, &pin_file);
            if (!pin_file.empty()) log.info("listener {}: certificate pinned by {}", l.name, pin_file);
            settings.client_trust = trust_;
            settings.tickets = tickets;
            settings.tls.tls13_tickets = static_cast<std::size_t>(cfg_->certificates.tls13_tickets);
            std::string why;
            auto ctx = tls::server_context::create(store_, settings, why);
            if (!ctx) {
                lr.no_tls_reason = why;
            } else if (const auto chosen = ctx->default_selection(now); !chosen) {
                lr.no_tls_reason = chosen.reason;
            } else {
                if (chosen.rank == tls::candidate_rank::outside_validity)
                    log.error("listener {}: the certificate served for {} is expired or not yet valid: {}", l.name,
                              l.fqdn, chosen.cert->certificate_path);
                lr.tls = std::make_shared<tls::server_context>(std::move(*ctx));
            }
        }
        // docs/design.md §4.1: without a certificate, only by choice.
        const auto decision = decide_listener_start(
            l, lr.tls ? std::nullopt : std::optional<std::string>(lr.no_tls_reason));
        if (decision.action == listener_start::refuse) {
            error = decision.message;
            return false;
        }
        if (decision.action == listener_start::without_starttls) log.warn("{}", decision.message);
        listeners_.push_back(std::move(lr));
    }
    return true;
}

bool runtime::build_upstreams(std::time_t now, std::string& error) {
    for (const auto& u : cfg_->upstreams) {
        upstream_runtime ur;
        ur.spec = &u;
        std::string why;
        ur.trust = trust_for(u.tls, cfg_->trust_store, trust_, why);
        if (!ur.trust) {
            error = "upstream " + u.name + ": " + why;
            return false;
        }
        if (u.tls.level != config::tls_level::none) {
            auto ctx = tls::client_context::create({tls_settings_for(u.tls), ur.trust}, why);
            if (!ctx) {
                error = "upstream " + u.name + ": " + why;
                return false;
            }
            ur.tls = std::make_shared<tls::client_context>(std::move(*ctx));
        }
        if (needs_client_certificate(u.tls)) {
            // The configured one, else the fqdn of the first listener that
            // uses this upstream (docs/design.md §6.1); none usable: why, for
            // the sessions (build logs it with the outbound policies').
            auto chosen = tls::choose_client_certificate(
                *store_, client_certificate_policy(upstream_fqdn(*cfg_, u.name), u.tls.client_certificate),
                needed_by(u), now);
            ur.client_certificate = chosen.cert;
            ur.client_certificate_problem = std::move(chosen.problem);
        }
        upstreams_.emplace(u.name, std::move(ur));
    }
    return true;
}

bool runtime::build_outbound(std::string& error) {
    for (const auto& l : cfg_->listeners)
        if (l.role == config::listener_role::outbound) has_outbound_ = true;
    if (!has_outbound_) return true;
    // The resolvers of this snapshot are built per thread on first use:
    // a trust anchor that does not load refuses the start or the reload now.
    if (auto problem = check_dns_settings(cfg_->outbound)) {
        error = *problem;
        return false;
    }
    // Client contexts for the recipient domains' policies: one for the
    // default TLS settings, one per policy with its own.
    const auto make = [&](const config::domain_policy& p, upstream_runtime& out) {
        const auto found = policy_trusts_->find(&p);
        out.trust = found != policy_trusts_->end() ? found->second : trust_;
        auto ctx = tls::client_context::create({tls_settings_for(p), out.trust}, error);
        if (ctx) out.tls = std::make_shared<tls::client_context>(std::move(*ctx));
        return ctx.has_value();
    };
    if (!make(config::domain_policy{}, outbound_default_)) return false;
    for (const auto* p : all_policies(*cfg_)) {
        const bool custom = p->min_tls != config::tls_version::v1_2 || !p->ciphers.empty() || p->ca_file ||
                            !p->crl.empty();
        if (!custom) continue;
        upstream_runtime ur;
        if (!make(*p, ur)) return false;
        outbound_custom_.emplace(p, std::move(ur));
    }
    return true;
}

upstream_settings runtime::upstream_settings_for(const listener_runtime& l, const config::domain_policy& policy,
                                                 const std::string& name, const std::string& domain,
                                                 const upstream_runtime& ur) const {
    upstream_settings s;
    s.name = name;
    // mode testing: evaluate and log what would fail, relay as opportunistic (combine()).
    s.floor = {policy.level, policy.mode == config::policy_mode::testing};
    s.tls = ur.tls.get();
    s.trust = ur.trust.get();
    s.verify = verify_request_for(policy, domain);
    s.match_host = policy.match_host;
    s.reject_on_policy_failure = policy.on_failure == config::failure_action::reject;
    s.timeouts = upstream_timeouts_from(cfg_->timeout.upstream);
    s.limits = upstream_limits_from(cfg_->limit);
    s.helo_name = l.spec->fqdn;
    return s;
}

upstream_settings runtime::outbound_upstream_for(const listener_runtime& l, const config::domain_policy& configured,
                                                 const std::string& domain, std::optional<config::tls_level> level) const {
    // The TLS context belongs to the configured entry; the level may be another.
    const auto it = outbound_custom_.find(&configured);
    std::optional<config::domain_policy> other_level;  // a copy only for the probe
    if (level) {
        other_level = configured;
        other_level->level = *level;
    }
    const config::domain_policy& policy = other_level ? *other_level : configured;
    const upstream_runtime& ur = it != outbound_custom_.end() ? it->second : outbound_default_;
    upstream_settings s = upstream_settings_for(l, policy, domain, domain, ur);
    if (needs_client_certificate(policy)) {
        auto chosen = tls::choose_client_certificate(
            *store_, client_certificate_policy(l.spec->fqdn, policy.client_certificate), needed_by(*l.spec, configured),
            std::time(nullptr));
        s.client_certificate = chosen.cert;
        s.client_certificate_problem = std::move(chosen.problem);
    }
    return s;
}

front_settings runtime::front_for(const listener_runtime& l, std::string session_id,
                                  std::shared_ptr<spdlog::logger> log) const {
    front_settings f;
    f.session_id = std::move(session_id);
    f.implicit_tls = l.spec->tls == config::listener_tls::implicit;
    f.tls = l.tls.get();
    // Only an inbound listener judges senders against the policies' trusts.
    if (l.spec->role == config::listener_role::inbound)
        f.client_trusts = client_trusts_;
    else
        f.client_trusts = {trust_.get()};
    f.timeouts.command = cfg_->timeout.client.command;
    f.timeouts.data_block = cfg_->timeout.client.data_block;
    f.timeouts.tls_handshake = cfg_->timeout.client.tls_handshake;
    f.timeouts.min_data_rate = cfg_->limit.min_data_rate;
    f.greeting_delay = cfg_->limit.greeting_delay;
    f.log = std::move(log);
    return f;
}

smtp::server_options runtime::server_options_for(const listener_runtime& l, std::string session_id,
                                                 const std::string& client_address) const {
    smtp::server_options o;
    o.fqdn = l.spec->fqdn;
    o.session_id = std::move(session_id);
    o.client_address = client_address;
    o.starttls_offered = l.tls != nullptr && l.spec->tls == config::listener_tls::starttls;
    o.mail_refusal_per_recipient = l.spec->role == config::listener_role::outbound;
    o.rename_trust_markers = l.spec->role == config::listener_role::inbound;
    if (l.spec->role == config::listener_role::inbound) {
        const auto it = upstreams_.find(l.spec->upstream);
        o.advertise_dsn = it != upstreams_.end() && it->second.memo->dsn.load() == upstream_memo::with_dsn;
    }
    const auto& lim = cfg_->limit;
    o.limits.command_line_max = lim.command_line_length;
    o.limits.text_line_max = lim.text_line_length;
    o.limits.recipients_max = lim.max_recipients;
    o.limits.message_size_max = lim.message_size;
    o.limits.bad_commands_max = static_cast<unsigned>(lim.max_bad_commands);
    o.limits.pending_input_max = lim.pipelined_input;
    o.data_bare_newline = lim.data_bare_lf == config::bare_lf_action::normalize ? smtp::bare_newline_policy::normalize
                                                                                : smtp::bare_newline_policy::reject;
    return o;
}

tls::selection_policy listener_certificate_policy(const config::listener& l, const config::certificate_store& store,
                                                  std::string* pin_file) {
    tls::selection_policy p;
    p.fqdn = l.fqdn;
    p.fallback = l.fallback == config::certificate_fallback::any ? tls::fallback_mode::any : tls::fallback_mode::none;
    if (l.certificate) {
        p.pin = l.certificate->value;
        return p;
    }
    // `dsproxy cert import --listener NAME` leaves a pin in the store.
    for (const auto& d : store.directories) {
        const auto path = std::filesystem::path(d) / "pins" / (l.name + ".pin");
        std::ifstream in(path);
        std::string pin;
        if (in >> pin) {
            p.pin = pin;
            if (pin_file) *pin_file = path.string();
            break;
        }
    }
    return p;
}

std::string policy_entry_label(const config::policy_match& m) {
    switch (m.source) {
        case config::policy_source::exact: return std::string(m.key);
        case config::policy_source::parent: return "." + std::string(m.key);
        case config::policy_source::fallback: break;
    }
    return "other";
}

smtp::session_policy runtime::policy_for(const listener_runtime& l, std::function<void(const std::string&)> log_line,
                                         metrics_registry* metrics) const {
    smtp::session_policy p;
    if (l.spec->role == config::listener_role::outbound) {
        p.accepts_domain = [](std::string_view) { return true; };
        return p;
    }
    // Inbound: never an open relay (docs/design.md §1, §10).
    auto cfg = cfg_;
    p.accepts_domain = [cfg](std::string_view domain) { return cfg->accepts(domain); };
    const bool starttls_offered = l.tls != nullptr && l.spec->tls == config::listener_tls::starttls;
    const bool tls_possible = l.tls != nullptr;
    p.check_sender = [cfg, index = policy_trust_index_, ciphers = policy_ciphers_, starttls_offered, tls_possible,
                      log_line = std::move(log_line), metrics](const smtp::path& sender,
                                                               const std::optional<smtp::tls_facts>& tls) {
        std::string domain;
        if (!sender.null) {
            if (auto ref = matching::reference_name::parse(sender.box.domain)) domain = ref->text();
        }
        const auto found = cfg->policies.lookup(domain);
        sender_check check;
        check.policy = found.policy;
        check.domain = domain;
        check.tls = tls ? &*tls : nullptr;
        if (const auto i = index->find(found.policy); i != index->end()) check.trust = i->second;
        if (const auto own = ciphers->find(found.policy); own != ciphers->end()) check.ciphers = &own->second;
        check.tls_possible = tls_possible;
        check.starttls_offered = starttls_offered;
        const auto j = judge_sender(check);
        const std::string_view level = config::to_name(found.policy->level);
        const auto outcome = j.outcome == sender_outcome::passed    ? policy_outcome::passed
                             : j.outcome == sender_outcome::refused ? policy_outcome::refused
                                                                    : policy_outcome::would_refuse;
        if (metrics) {
            if (!j.failure_label.empty()) metrics->verification_failed(tls_leg::in, level, j.failure_label);
            metrics->policy_evaluated(policy_direction::inbound, policy_entry_label(found), level, outcome);
        }
        smtp::sender_verdict verdict;
        if (!j.checked) return verdict;
        const std::string head = "policy=" + log::value(found.key) + " level=" + std::string(level) +
                                 " sender_domain=" + (domain.empty() ? "-" : log::value(domain));
        if (j.outcome == sender_outcome::passed) {
            log_line(head + " verdict=passed" +
                     (j.matched_name.empty() ? "" : " matched=" + log::value(j.matched_name) + " rule=" + std::string(j.rule)));
        } else {
            log_line(head + (j.outcome == sender_outcome::would_refuse ? " mode=testing would refuse" : " refused") +
                     " reason=" + log::value(j.reason, limits::log_value));
            if (j.outcome == sender_outcome::refused) verdict.refusal = j.reply;
        }
        verdict.domain_secured = j.domain_secured;
        return verdict;
    };
    return p;
}

std::optional<upstream_settings> runtime::upstream_for(const listener_runtime& l) const {
    const auto it = upstreams_.find(l.spec->upstream);
    if (it == upstreams_.end()) return std::nullopt;
    const upstream_runtime& ur = it->second;
    const config::upstream& u = *ur.spec;
    upstream_settings s = upstream_settings_for(l, u.tls, u.name, u.tls.tls_domain.value_or(""), ur);
    for (const auto& h : u.hosts) s.hosts.push_back({h.host, h.port, {}, nullptr});
    s.client_certificate = ur.client_certificate;
    s.client_certificate_problem = ur.client_certificate_problem;
    s.memo = ur.memo;
    s.xclient = u.xclient;
    s.proxy_protocol = u.proxy_protocol;
    return s;
}

}  // namespace dsproxy::engine
