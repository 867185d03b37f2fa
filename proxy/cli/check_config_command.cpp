// check_config_command — `dsproxy check-config`: validate the configuration
// and print the effective result (docs/design.md §7).
//
//   dsproxy check-config [-c FILE] [--quiet]
//   dsproxy check-config --keys    every key the loader accepts, one per line
//
// FILE defaults to conf.d/dsproxy.yaml in the working directory. On success
// prints the merged configuration with every default filled in, as YAML, on
// stdout (nothing with --quiet) and exits 0. Otherwise prints every error of
// every file on stderr, one `FILE:LINE:COLUMN: error: MESSAGE` line each,
// and exits 1. A client certificate that is needed and unusable is a
// `FILE: warning: ...` line on stderr; the exit stays 0.
#include "proxy/cli/subcommand.hpp"

#include "config/emitter.hpp"
#include "config/loader.hpp"
#include "proxy/engine/dns_settings.hpp"
#include "proxy/engine/runtime.hpp"
#include "tls/certificate_store.hpp"
#include "tls/trust_store.hpp"

#include <ctime>

#include <iostream>
#include <memory>
#include <string>

namespace dsproxy::cli {

namespace {

struct check_config_args {
    std::string file{config::default_main_file};
    bool quiet = false;
    bool keys = false;
};

// A client certificate that a policy or upstream needs and that cannot be
// one (issue 15 item 1), said as the start and a reload log it: a warning,
// since sessions still run (and answer with the policy's failure reply).
void warn_client_certificates(const config::config& cfg, const std::string& file) {
    std::string error;
    const auto trust = tls::trust_store::load(engine::trust_settings_for(cfg.trust_store), error);
    std::vector<tls::load_problem> refused;  // the start logs these; not this command's subject
    const auto store = tls::certificate_store::load(
        engine::store_sources(cfg.certificates),
        {cfg.certificates.allow_group_readable_keys, trust ? &*trust : nullptr}, refused);
    for (const auto& problem : engine::client_certificate_problems(cfg, store, std::time(nullptr)))
        std::cerr << file << ": warning: client certificate unusable: " << problem << '\n';
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
    warn_client_certificates(*result.value, args.file);
    if (!args.quiet) std::cout << config::to_yaml(*result.value);
    return 0;
}

}  // namespace

subcommand add_check_config_command(CLI::App& parent) {
    auto args = std::make_shared<check_config_args>();
    CLI::App* app = parent.add_subcommand(
        "check-config", "Validate the configuration and print the effective result (defaults filled in)");
    app->add_option("-c,--config", args->file, "Main configuration file")->capture_default_str();
    app->add_flag("-q,--quiet", args->quiet, "Print nothing on success, only errors");
    app->add_flag("--keys", args->keys, "List every key a configuration may hold (dotted paths) and exit");
    return {app, [args] { return run_check_config(*args); }};
}

}  // namespace dsproxy::cli
