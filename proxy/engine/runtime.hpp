// runtime — one immutable snapshot of everything a session needs: the loaded
// configuration, the certificate store, the TLS contexts built from them, and
// the decisions that come from policy (relay control, the sender's Domain
// Security check of docs/design.md §6.2, the upstream leg's TLS policy).
//
// Owns: the translation config -> tls/engine settings. A session holds a
// shared_ptr to the snapshot it started with; SIGHUP builds a new one and
// swaps it in, so sessions in flight finish on their own (docs/design.md §7).
// Must not: do network I/O. Building it may write files (auto_selfsigned).
#pragma once

#include "config/model.hpp"
#include "proxy/engine/front_session.hpp"
#include "proxy/engine/relay_session.hpp"
#include "proxy/engine/sts_service.hpp"
#include "proxy/smtp/server_session.hpp"
#include "tls/certificate_store.hpp"
#include "tls/client_context.hpp"
#include "tls/server_context.hpp"
#include "tls/trust_store.hpp"

#include <spdlog/logger.h>

#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dsproxy::engine {

// The configuration's `trust` section as the trust store's settings (also
// what the TLS-RPT sender verifies collectors against).
tls::trust_settings trust_settings_for(const config::trust& t);

struct listener_runtime {
    const config::listener* spec = nullptr;
    std::shared_ptr<tls::server_context> tls;  // null: no TLS on this listener
    std::string no_tls_reason;                 // why, when the listener wanted TLS
};

struct upstream_runtime {
    const config::upstream* spec = nullptr;
    std::shared_ptr<tls::client_context> tls;
    std::shared_ptr<const tls::trust_store> trust;
    std::shared_ptr<const tls::credential> client_certificate;
    std::string client_certificate_problem;  // see upstream_settings
    std::shared_ptr<upstream_memo> memo = std::make_shared<upstream_memo>();
};

// The certificate store's sources as the configuration names them (files,
// then directories).
std::vector<tls::store_source> store_sources(const config::certificate_store& c);

// Every upstream and outbound policy that needs a client certificate
// (domain-secure, or client_certificate set) and has none that can be one,
// each with why (tls::choose_client_certificate: the certificate, its
// extended key usage, what to do). Logged at start and reload, printed by
// `dsproxy check-config` (issue 15 item 1).
std::vector<std::string> client_certificate_problems(const config::config& cfg, const tls::certificate_store& store,
                                                     std::time_t now);

class runtime {
public:
    // Builds the snapshot; logs what it decides (certificates created,
    // listeners without TLS). nullptr with `error` set on a start-up error.
    static std::shared_ptr<const runtime> build(std::shared_ptr<const config::config> cfg, spdlog::logger& log,
                                                std::string& error);

    const config::config& cfg() const noexcept { return *cfg_; }
    const std::vector<listener_runtime>& listeners() const noexcept { return listeners_; }
    const tls::certificate_store& store() const noexcept { return *store_; }
    // Files and directories this build created (the certificate directory,
    // a first self-signed certificate and its key): `dsproxy run` gives them
    // to process.user before switching to it, so that reloads can read them.
    const std::vector<std::string>& created_files() const noexcept { return created_; }
    // MTA-STS policies of recipient domains (null without an outbound listener).
    sts_service* sts() const noexcept { return sts_.get(); }

    front_settings front_for(const listener_runtime& l, std::string session_id,
                             std::shared_ptr<spdlog::logger> log) const;
    smtp::server_options server_options_for(const listener_runtime& l, std::string session_id,
                                            const std::string& client_address) const;
    // Relay control and the sender check (sender_policy.hpp) over the
    // client_tls record the session collected at its handshake.
    // `metrics` (may be null) counts the sender check's outcomes.
    smtp::session_policy policy_for(const listener_runtime& l, std::function<void(const std::string&)> log_line,
                                    metrics_registry* metrics) const;
    std::optional<upstream_settings> upstream_for(const listener_runtime& l) const;
    // Outbound: the TLS side of the upstream leg to `domain` under `policy`
    // (hosts are filled in by the router). `level`, when given, replaces the
    // policy's level (`dsproxy probe --level`); its other keys stay.
    upstream_settings outbound_upstream_for(const listener_runtime& l, const config::domain_policy& policy,
                                            const std::string& domain,
                                            std::optional<config::tls_level> level = std::nullopt) const;

private:
    // The steps of build(), in order.
    bool load_trusts(std::string& error);
    bool load_policy_ciphers(std::string& error);
    tls::certificate_store load_store(spdlog::logger& log);
    void add_self_signed(tls::certificate_store& store, spdlog::logger& log);
    std::shared_ptr<const tls::ticket_keys> load_ticket_keys(std::string& error) const;
    // False (with `error`) when a listener must not start (listener_start).
    bool build_listeners(const std::shared_ptr<const tls::ticket_keys>& tickets, spdlog::logger& log, std::time_t now,
                         std::string& error);
    bool build_upstreams(std::time_t now, std::string& error);
    bool build_outbound(std::string& error);
    bool build_sts(spdlog::logger& log, std::string& error);
    // The one upstream_settings builder: what the policy, the listener and
    // the configuration's timeouts and limits say (hosts, client
    // certificate, XCLIENT and PROXY are the caller's).
    upstream_settings upstream_settings_for(const listener_runtime& l, const config::domain_policy& policy,
                                            const std::string& name, const std::string& domain,
                                            const upstream_runtime& ur) const;

    std::shared_ptr<const config::config> cfg_;
    std::shared_ptr<const tls::certificate_store> store_;
    std::shared_ptr<const tls::trust_store> trust_;
    // Trust of each policy with its own `ca_file` or `crl`, loaded once per
    // snapshot (a MAIL FROM never reads files); the rest use trust_.
    using policy_trusts = std::map<const config::domain_policy*, std::shared_ptr<const tls::trust_store>>;
    std::shared_ptr<const policy_trusts> policy_trusts_;
    // The same trusts as the client_tls record's chains see them: [0] the
    // global one, then one per policy of policy_trusts_ (index in the map).
    std::vector<const tls::trust_store*> client_trusts_;
    std::shared_ptr<const std::map<const config::domain_policy*, std::size_t>> policy_trust_index_;
    // TLS 1.2 cipher names of each policy with its own `ciphers`, for the
    // sender check of what the client negotiated (inbound).
    using policy_ciphers = std::map<const config::domain_policy*, std::set<std::string, std::less<>>>;
    std::shared_ptr<const policy_ciphers> policy_ciphers_;
    std::vector<listener_runtime> listeners_;
    std::map<std::string, upstream_runtime, std::less<>> upstreams_;
    // Outbound: one client context for the default TLS settings, and one per
    // policy entry with its own min_tls/ciphers/ca_file/crl.
    upstream_runtime outbound_default_;
    std::map<const config::domain_policy*, upstream_runtime> outbound_custom_;
    bool has_outbound_ = false;
    std::shared_ptr<sts_service> sts_;
    std::vector<std::string> created_;
};

// The TLS checks of one policy level (docs/design.md §6.1), shared by both directions.
tls::verify_request verify_request_for(const config::domain_policy& p, const std::string& domain);
// How listener `l` chooses its certificate (docs/design.md §4.1): its fqdn, its
// `certificate` pin, else a pin file `pins/NAME.pin` in a store directory
// (named in `pin_file` when one applies), and its fallback. Shared by
// `dsproxy run` and `dsproxy cert list -c`, so the two always agree.
tls::selection_policy listener_certificate_policy(const config::listener& l, const config::certificate_store& store,
                                                  std::string* pin_file = nullptr);
// The metrics label of the entry a policy lookup found: its key as written
// ("contoso.com", ".contoso.com"), or "other" for the default policy.
std::string policy_entry_label(const config::policy_match& m);

}  // namespace dsproxy::engine
