// dsproxy — SMTP STARTTLS proxy with Exchange Domain Security name matching.
//
// main only parses the command line and dispatches to a subcommand (table
// below); each subcommand builds what it needs and passes it down. No global
// mutable state.
#include "proxy/cli/subcommand.hpp"

#include <csignal>
#include <iostream>
#include <vector>

int main(int argc, char** argv) {
    // OpenSSL writes to sockets with write(2): a peer that has gone away must
    // be an EPIPE error on that session, never a SIGPIPE that kills the process.
    std::signal(SIGPIPE, SIG_IGN);
    CLI::App app{"dsproxy: SMTP STARTTLS proxy enforcing Exchange Domain Security certificate names"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("dsproxy ") + DSPROXY_VERSION);

    std::vector<dsproxy::cli::subcommand> commands{
        dsproxy::cli::add_run_command(app),
        dsproxy::cli::add_sink_command(app),
        dsproxy::cli::add_match_command(app),
        dsproxy::cli::add_cert_command(app),
        dsproxy::cli::add_check_config_command(app),
        dsproxy::cli::add_resolve_command(app),
        dsproxy::cli::add_tls_report_command(app),
        dsproxy::cli::add_probe_command(app),
    };

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);  // prints the message and the usage hint
        return dsproxy::cli::exit_usage;
    }
    for (const auto& command : commands)
        if (command.app->parsed()) return command.run();
    return dsproxy::cli::exit_usage;
}
