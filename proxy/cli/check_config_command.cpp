// check_config_command — `dsproxy check-config`: validate the configuration
// and print the effective result (docs/design.md §7).
//
//   dsproxy check-config [-c FILE] [--quiet]
//   dsproxy check-config --keys    every key the loader accepts, one per line
//   dsproxy check-config -n        only what differs from the defaults (postconf -n)
//   dsproxy check-config --diff [--running FILE]
//                                  what a reload would change against the
//                                  configuration the running dsproxy serves
//                                  (process.running_config), the settings a
//                                  reload cannot apply marked
//
// FILE defaults to conf.d/dsproxy.yaml in the working directory. On success
// prints the merged configuration with every default filled in, as YAML, on
// stdout (nothing with --quiet) and exits 0. Otherwise prints every error of
// every file on stderr, one `FILE:LINE:COLUMN: error: MESSAGE` line each,
// and exits 1 (so do a process.user or group that does not exist, a
// cipher list that selects nothing and a TLS listener that no certificate
// serves, without `without_certificate: plain`: `run` refuses all of them;
// issue 19 item 7). Except with --quiet, a client certificate that is needed
// and unusable is a `FILE: warning: ...` line on stderr; the exit stays 0. So
// is what `run` would degrade in the certificate store (a certificate
// it refuses, e.g. a key readable by group or others, while the listener is
// still served; a listener that runs without STARTTLS by its
// `without_certificate: plain`). Nothing is written: no directory, no
// self-signed certificate.
#include "proxy/cli/subcommand.hpp"

#include "config/config_diff.hpp"
#include "config/emitter.hpp"
#include "config/loader.hpp"
#include "proxy/engine/dns_settings.hpp"
#include "proxy/engine/listener_start.hpp"
#include "proxy/engine/runtime.hpp"
#include "proxy/net/privileges.hpp"
#include "tls/certificate_selection.hpp"
#include "tls/certificate_store.hpp"
#include "tls/context_settings.hpp"
#include "tls/trust_store.hpp"

#include <grp.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <memory>
#include <string>

namespace dsproxy::cli {

namespace {

struct check_config_args {
    std::string file{config::default_main_file};
    bool quiet = false;
    bool keys = false;
    bool non_default = false;
    bool diff = false;
    std::string running;  // default: the checked configuration's process.running_config
};

// The certificate store as `dsproxy run` loads it (the same sources, trust
// and key-mode rule), read only; `refused`: what run would log and leave out.
tls::certificate_store load_store(const config::config& cfg, std::vector<tls::load_problem>& refused) {
    std::string error;
    const auto trust = tls::trust_store::load(engine::trust_settings_for(cfg.trust_store), error);
    return tls::certificate_store::load(engine::store_sources(cfg.certificates),
                                        {cfg.certificates.allow_group_readable_keys, trust ? &*trust : nullptr},
                                        refused);
}

// A client certificate that a policy or upstream needs and that cannot be
// one (issue 15 item 1), said as the start and a reload log it: a warning,
// since sessions still run (and answer with the policy's failure reply).
void warn_client_certificates(const config::config& cfg, const tls::certificate_store& store,
                              const std::string& file) {
    for (const auto& problem : engine::client_certificate_problems(cfg, store, std::time(nullptr)))
        std::cerr << file << ": warning: client certificate unusable: " << problem << '\n';
}

// Whether `who` (with its supplementary groups) may read the file `path`
// by its mode bits.
bool readable_by(const std::string& path, const net::account& who) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return false;
    if (who.uid == 0) return true;
    if (st.st_uid == who.uid) return (st.st_mode & S_IRUSR) != 0;
    std::vector<gid_t> groups(64);
    int n = static_cast<int>(groups.size());
    if (::getgrouplist(who.user.c_str(), who.gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<std::size_t>(n));
        if (::getgrouplist(who.user.c_str(), who.gid, groups.data(), &n) < 0) n = 0;
    }
    groups.resize(static_cast<std::size_t>(n));
    groups.push_back(who.gid);
    for (const gid_t g : groups)
        if (st.st_gid == g) return (st.st_mode & S_IRGRP) != 0;
    return (st.st_mode & S_IROTH) != 0;
}

// The store's files that process.user cannot read: run reads them as root at
// start, but a reload after the switch (a renewal) would fail on them.
std::vector<std::string> unreadable_for_user(const config::config& cfg, const tls::certificate_store& store) {
    std::vector<std::string> out;
    if (!cfg.process.user) return out;
    std::string error;
    const auto who = net::find_account(*cfg.process.user, cfg.process.group, error);
    if (!who) return out;
    for (const auto& c : store.all())
        for (const auto* path : {&c->certificate_path, &c->key_path})
            if (!path->empty() && (path == &c->certificate_path || *path != c->certificate_path) &&
                !readable_by(*path, *who))
                out.push_back("process.user " + who->user + " cannot read " + *path +
                              ": `dsproxy run` reads it as root at start, a reload after the switch fails on it "
                              "(chown " + who->user + ": it, mode 0600 for a key)");
    return out;
}

struct certificate_findings {
    std::vector<std::string> errors;    // a listener `run` would not start
    std::vector<std::string> warnings;  // what it would refuse from the store, or run without STARTTLS
};

// What run would refuse from the store, and each TLS listener as run would
// start it: its certificate chosen as run chooses it (the same
// listener_certificate_policy and select_certificate), then the same
// decide_listener_start.
certificate_findings check_certificates(const config::config& cfg, const tls::certificate_store& store,
                                        const std::vector<tls::load_problem>& refused) {
    const auto& certs = cfg.certificates;
    const bool self_signed = certs.auto_selfsigned && !certs.directories.empty();
    certificate_findings out;
    for (const auto& p : refused) {
        std::error_code ec;
        if (self_signed && !std::filesystem::exists(p.path, ec)) continue;  // a directory run creates
        out.warnings.push_back("certificate refused by `dsproxy run`: " + p.path + ": " + p.detail);
    }
    const std::time_t now = std::time(nullptr);
    for (const auto& l : cfg.listeners) {
        if (l.tls == config::listener_tls::none) continue;
        const auto policy = engine::listener_certificate_policy(l, certs);
        const auto chosen = tls::select_certificate(store, policy, {}, now);
        if (chosen) {
            if (chosen.rank == tls::candidate_rank::outside_validity)
                out.warnings.push_back("listener " + l.name + ": the certificate for " + l.fqdn +
                                       " is expired or not yet valid: " + chosen.cert->certificate_path);
            continue;
        }
        if (self_signed && !policy.pin) continue;  // run makes a self-signed one at start
        const auto decision = engine::decide_listener_start(l, chosen.reason);
        if (decision.action == engine::listener_start::refuse)
            out.errors.push_back(decision.message + " (`dsproxy run` would not start)");
        else if (decision.action == engine::listener_start::without_starttls)
            out.warnings.push_back(decision.message);
    }
    return out;
}

// `check-config --diff`: one line per setting that a reload would change.
int print_diff(const config::config& cfg, const check_config_args& args) {
    const std::string running = !args.running.empty() ? args.running : cfg.process.running_config.value_or("");
    if (running.empty()) {
        std::cerr << "dsproxy check-config: --diff needs the running configuration: set process.running_config "
                     "(dsproxy run writes it there) or give --running FILE\n";
        return 1;
    }
    std::ifstream in(running);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
        std::cerr << "dsproxy check-config: cannot read the running configuration " << running << ": "
                  << std::strerror(errno) << " (is dsproxy running with process.running_config?)\n";
        return 1;
    }
    std::vector<config::setting_change> changes;
    try {
        changes = config::changes(text.str(), config::to_yaml(cfg));
    } catch (const std::exception& e) {
        std::cerr << "dsproxy check-config: " << running << ": " << e.what() << '\n';
        return 1;
    }
    std::size_t restart = 0;
    for (const auto& c : changes) {
        std::cout << c.path << ": " << (c.before.empty() ? "(new)" : c.before) << " -> "
                  << (c.after.empty() ? "(gone)" : c.after);
        if (c.restart) {
            std::cout << "  [read at start only: restart to apply]";
            ++restart;
        }
        std::cout << '\n';
    }
    if (changes.empty())
        std::cout << "no change against the running configuration " << running << '\n';
    else
        std::cout << changes.size() << (changes.size() == 1 ? " change" : " changes") << " against " << running
                  << "; a reload applies " << changes.size() - restart << ", " << restart << " need a restart\n";
    return 0;
}

int run_check_config(const check_config_args& args) {
    if (args.keys) {
        for (const auto& key : config::accepted_keys()) std::cout << key << '\n';
        return 0;
    }
    const auto result = config::load(args.file);
    if (!result.ok()) {
        for (const auto& d : result.errors) std::cerr << config::format(d) << '\n';
        std::cerr << "dsproxy check-config: " << result.errors.size()
                  << (result.errors.size() == 1 ? " error" : " errors") << " in " << args.file << '\n';
        return 1;
    }
    // The DNS settings of an outbound listener must also load into the
    // validator: a missing or unreadable trust anchor (the default one
    // included, which no file names) is reported here, as a start would.
    bool outbound = false;
    for (const auto& l : result.value->listeners) outbound = outbound || l.role == config::listener_role::outbound;
    if (outbound) {
        if (auto problem = engine::check_dns_settings(result.value->outbound)) {
            std::cerr << args.file << ": error: " << *problem << '\n';
            std::cerr << "dsproxy check-config: 1 error in " << args.file << '\n';
            return 1;
        }
    }
    // `run` refuses to start when a policy's cipher list selects no cipher
    // (the same tls12_cipher_names).
    std::vector<const config::domain_policy*> policies{&result.value->policies.fallback()};
    for (const auto& [key, p] : result.value->policies.entries().sorted()) policies.push_back(p);
    for (const auto& u : result.value->upstreams) policies.push_back(&u.tls);
    for (const auto* p : policies) {
        std::string why;
        if (p->ciphers.empty() || tls::tls12_cipher_names(p->ciphers, why)) continue;
        std::cerr << (p->where.file.empty() ? args.file : config::to_string(p->where)) << ": error: ciphers `"
                  << p->ciphers << "`: " << why << " (`dsproxy run` would not start)\n";
        std::cerr << "dsproxy check-config: 1 error in " << args.file << '\n';
        return 1;
    }
    // `run` refuses to start when process.user (or group) does not exist.
    if (const auto& process = result.value->process; process.user) {
        std::string error;
        if (!net::find_account(*process.user, process.group, error)) {
            std::cerr << args.file << ": error: process.user: " << error << " (`dsproxy run` would not start)\n";
            std::cerr << "dsproxy check-config: 1 error in " << args.file << '\n';
            return 1;
        }
    }
    std::vector<tls::load_problem> refused;
    const auto store = load_store(*result.value, refused);
    const auto findings = check_certificates(*result.value, store, refused);
    if (!findings.errors.empty()) {
        for (const auto& e : findings.errors) std::cerr << args.file << ": error: " << e << '\n';
        std::cerr << "dsproxy check-config: " << findings.errors.size()
                  << (findings.errors.size() == 1 ? " error" : " errors") << " in " << args.file << '\n';
        return 1;
    }
    if (!args.quiet) warn_client_certificates(*result.value, store, args.file);  // -q: errors only (ExecStartPre)
    if (args.diff) return print_diff(*result.value, args);
    if (args.quiet) return 0;
    for (const auto& w : findings.warnings) std::cerr << args.file << ": warning: " << w << '\n';
    for (const auto& w : unreadable_for_user(*result.value, store))
        std::cerr << args.file << ": warning: " << w << '\n';
    std::cout << (args.non_default ? config::non_default_yaml(*result.value) : config::to_yaml(*result.value));
    return 0;
}

}  // namespace

subcommand add_check_config_command(CLI::App& parent) {
    auto args = std::make_shared<check_config_args>();
    CLI::App* app = parent.add_subcommand(
        "check-config", "Validate the configuration and print the effective result (defaults filled in)");
    app->add_option("-c,--config", args->file, "Main configuration file")->capture_default_str();
    app->add_flag("-q,--quiet", args->quiet, "Print nothing on success (no store warnings either), only errors");
    app->add_flag("--keys", args->keys, "List every key a configuration may hold (dotted paths) and exit");
    app->add_flag("-n,--non-default", args->non_default,
                  "Print only the settings that differ from the built-in defaults (like postconf -n)");
    app->add_flag("--diff", args->diff,
                  "Print what a reload would change against the running configuration, marking the settings "
                  "that need a restart");
    app->add_option("--running", args->running,
                    "The running configuration for --diff (default: the configuration's process.running_config)");
    return {app, [args] { return run_check_config(*args); }};
}

}  // namespace dsproxy::cli
