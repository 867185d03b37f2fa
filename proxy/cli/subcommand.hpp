// subcommand — how `dsproxy`'s subcommands plug into main.
//
// Each subcommand file adds its CLI11 sub-app and returns the function that
// runs it after parsing; main dispatches from the table of these. Exit codes
// are the subcommand's own (0 ok, 1 a negative answer, 2 a usage or input
// error, as `dsproxy match` documents).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace dsproxy::cli {

inline constexpr int exit_usage = 2;

struct subcommand {
    CLI::App* app = nullptr;
    std::function<int()> run;
};

subcommand add_match_command(CLI::App& parent);
subcommand add_run_command(CLI::App& parent);
subcommand add_sink_command(CLI::App& parent);
subcommand add_cert_command(CLI::App& parent);
subcommand add_check_config_command(CLI::App& parent);
subcommand add_resolve_command(CLI::App& parent);
subcommand add_probe_command(CLI::App& parent);
subcommand add_tls_report_command(CLI::App& parent);

}  // namespace dsproxy::cli
