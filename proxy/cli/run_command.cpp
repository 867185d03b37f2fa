// run_command — `dsproxy run [-c FILE]`: the proxy in the foreground.
//
// Loads the configuration, builds the runtime snapshot (certificate store,
// TLS contexts; a self-signed certificate on first start when configured),
// binds every listener, and serves until a signal:
//   SIGTERM  stop accepting, let sessions finish up to timeouts.shutdown_drain,
//            then 421 and close; exit 0 (SPEC §8)
//   SIGINT   the same with no grace period
//   SIGHUP   reload configuration and certificates; a config that fails
//            validation is refused (errors logged) and the old one keeps
//            serving; sessions in flight keep the snapshot they started with
// Exit status: 0 after a shutdown, 1 when the configuration or a listener
// cannot be set up.
#include "proxy/cli/subcommand.hpp"

#include "config/loader.hpp"
#include "proxy/engine/server.hpp"
#include "proxy/log/logging.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <iostream>
#include <memory>

namespace dsproxy::cli {

namespace {

struct run_args {
    std::string file{config::default_main_file};
};

std::shared_ptr<spdlog::logger> logger_for(const config::config& cfg) {
    return log::make_logger(cfg.log.format == config::log_format::json ? log::format::json : log::format::text,
                            config::to_name(cfg.log.level));
}

int run_proxy(const run_args& args) {
    auto loaded = config::load(args.file);
    if (!loaded.ok()) {
        for (const auto& d : loaded.errors) std::cerr << config::format(d) << '\n';
        std::cerr << "dsproxy run: configuration " << args.file << " has errors; not starting\n";
        return 1;
    }
    auto log = logger_for(*loaded.value);
    std::string error;
    auto rt = engine::runtime::build(loaded.value, *log, error);
    if (!rt) {
        log->critical("cannot start: {}", error);
        return 1;
    }

    boost::asio::io_context io(1);
    engine::server server(io, rt, log);
    if (!server.start(error)) {
        log->critical("cannot start: {}", error);
        return 1;
    }
    log->info("dsproxy {} started with {}", DSPROXY_VERSION, args.file);

    boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    bool stopping = false;
    std::function<void(const boost::system::error_code&, int)> on_signal;
    on_signal = [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            auto fresh = config::load(args.file);
            if (!fresh.ok()) {
                for (const auto& d : fresh.errors) log->error("reload refused: {}", config::format(d));
                log->error("reload refused: {} error(s); the running configuration stays", fresh.errors.size());
            } else if (auto next = engine::runtime::build(fresh.value, *log, error)) {
                server.reload(std::move(next));
                log->info("reloaded {}", args.file);
            } else {
                log->error("reload refused: {}; the running configuration stays", error);
            }
            signals.async_wait(on_signal);
            return;
        }
        if (stopping && sig == SIGINT) {
            io.stop();  // a second SIGINT: stop at once
            return;
        }
        stopping = true;
        const auto grace = sig == SIGTERM ? std::chrono::steady_clock::duration(rt->cfg().timeout.shutdown_drain)
                                          : std::chrono::steady_clock::duration::zero();
        log->info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        // Wait for a second signal before draining: with no session open the
        // drain can finish inside drain() itself, and its cancel() must find
        // this wait to cancel, or io.run() never runs out of work.
        signals.async_wait(on_signal);
        server.drain(grace, [&] {
            signals.cancel();
            log->info("all sessions closed; exiting");
        });
    };
    signals.async_wait(on_signal);
    io.run();
    return 0;
}

}  // namespace

subcommand add_run_command(CLI::App& parent) {
    auto args = std::make_shared<run_args>();
    CLI::App* app = parent.add_subcommand("run", "Run the proxy in the foreground (SIGTERM drains, SIGHUP reloads)");
    app->add_option("-c,--config", args->file, "Main configuration file")->capture_default_str();
    return {app, [args] { return run_proxy(*args); }};
}

}  // namespace dsproxy::cli
