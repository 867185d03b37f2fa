// run_command — `dsproxy run [-c FILE] [--allow-root]`: the proxy in the
// foreground.
//
// Loads the configuration, builds the runtime snapshot (certificate store,
// TLS contexts; a self-signed certificate on first start when configured),
// binds every listener once, switches to process.user when started as root
// (refusing to stay root unless allowed), starts the I/O threads
// (process.io_threads, one per core by default) and serves until a signal:
//   SIGTERM  stop accepting, let sessions finish up to timeouts.shutdown_drain,
//            then 421 and close; exit 0 once every thread's sessions ended (docs/design.md §8)
//   SIGINT   the same with no grace period; a second SIGINT stops at once
//   SIGHUP   reload configuration and certificates; a config that fails
//            validation is refused (errors logged) and the old one keeps
//            serving; sessions in flight keep the snapshot they started with
// The main thread handles signals, reloads (building a snapshot never stalls
// a session), the metrics listener (`metrics.listen`, bound at start; a
// reload does not move it), systemd notifications (READY=1, RELOADING=1,
// STOPPING=1 on $NOTIFY_SOCKET) and certificate expiry warnings at start,
// at each reload and daily. The I/O threads only serve SMTP.
// Exit status: 0 after a shutdown, 1 when the configuration, a listener or
// the switch of account cannot be set up.
#include "proxy/cli/subcommand.hpp"

#include "config/config_diff.hpp"
#include "config/emitter.hpp"
#include "config/loader.hpp"
#include "proxy/engine/metrics_endpoint.hpp"
#include "proxy/engine/process_metrics.hpp"
#include "proxy/engine/runtime_slot.hpp"
#include "proxy/engine/server_pool.hpp"
#include "proxy/log/logging.hpp"
#include "proxy/net/privileges.hpp"
#include "proxy/net/sd_notify.hpp"
#include "tls/certificate_expiry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <pthread.h>
#include <unistd.h>

namespace dsproxy::cli {

namespace {

struct run_args {
    std::string file{config::default_main_file};
    bool allow_root = false;
};

std::shared_ptr<spdlog::logger> logger_for(const config::config& cfg) {
    const auto t = cfg.log.target == config::log_target::syslog     ? log::target::syslog
                   : cfg.log.target == config::log_target::journald ? log::target::journald
                                                                   : log::target::stderr_stream;
    return log::make_logger(cfg.log.format == config::log_format::json ? log::format::json : log::format::text,
                            config::to_name(cfg.log.level), t);
}

// The expiry gauge of the current snapshot's store and the STARTTLS gauge of
// its listeners, for a scrape.
std::string certificate_gauges(const engine::runtime& rt) {
    std::vector<engine::certificate_sample> samples;
    for (const auto& c : rt.store().all()) {
        engine::certificate_sample s;
        s.name = c->names.empty() ? c->info.subject : c->names.front();
        s.thumbprint = c->info.sha1_thumbprint;
        s.use = c->use == tls::certificate_use::client ? "client" : "server";
        s.not_after = static_cast<std::int64_t>(c->info.not_after);
        samples.push_back(std::move(s));
    }
    std::vector<engine::listener_tls_sample> listeners;
    for (const auto& l : rt.listeners())
        listeners.push_back({l.spec->name, l.tls != nullptr});  // STARTTLS, or implicit TLS
    return engine::metrics_registry::render_certificates(samples) + engine::metrics_registry::render_listeners(listeners);
}

// One warning per certificate that expires within 30 days or has expired.
void warn_expiring(const engine::runtime& rt, spdlog::logger& log) {
    for (const auto& f : tls::expiring_certificates(rt.store(), std::time(nullptr))) {
        const auto& c = *f.cert;
        const std::string name = c.names.empty() ? c.info.subject : c.names.front();
        if (f.expired)
            log.error("certificate {} ({}) expired {} day(s) ago on {}", name, c.certificate_path, -f.days_left,
                      tls::format_utc(c.info.not_after));
        else
            log.warn("certificate {} ({}) expires in {} day(s) on {}", name, c.certificate_path, f.days_left,
                     tls::format_utc(c.info.not_after));
    }
}

void notify(const net::service_notifier& notifier, const std::string& state, spdlog::logger& log) {
    std::string error;
    if (!notifier.notify(state, error)) log.warn("service manager: {}", error);
}

// After the switch to process.user: can that account read what a reload
// reads? A file it cannot read would make the next SIGHUP (a certificate
// renewal) fail or drop a certificate, long after the start looked fine.
// Returns the first problem, or an empty string.
std::string unreadable_after_switch(const std::string& main_file, const engine::runtime& rt) {
    auto again = config::load(main_file);
    if (!again.ok()) return "the configuration cannot be read again: " + config::format(again.errors.front());
    const auto readable = [](const std::string& path) { return ::access(path.c_str(), R_OK) == 0; };
    for (const auto& c : rt.store().all())
        for (const auto* path : {&c->certificate_path, &c->key_path})
            if (!path->empty() && !readable(*path)) return "cannot read " + *path;
    if (const auto& tickets = rt.cfg().certificates.ticket_key_file; tickets && !readable(*tickets))
        return "cannot read the ticket key file " + *tickets;
    for (const auto& d : rt.cfg().certificates.directories)
        if (::access(d.c_str(), R_OK | X_OK) != 0) return "cannot list the certificate directory " + d;
    return {};
}

// What a reload cannot change (config::read_at_start_only), one line per
// setting, as `check-config --diff` marks it.
void warn_start_only_changes(const config::config& before, const config::config& after, spdlog::logger& log) {
    for (const auto& c : config::changes(config::to_yaml(before), config::to_yaml(after))) {
        if (!c.restart) continue;
        log.warn("reload: {} {}; it is read at start only, restart to apply", c.path,
                 c.before.empty() ? "is new (" + c.after + ")"
                 : c.after.empty() ? "is gone (was " + c.before + ")"
                                   : "changed (" + c.before + " -> " + c.after + ")");
    }
}

// process.running_config: the effective configuration served now, written
// whole to a temporary file and renamed, so a reader never sees half of it.
void write_running_config(const config::config& cfg, spdlog::logger& log) {
    const auto& path = cfg.process.running_config;
    if (!path) return;
    const std::string tmp = *path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << config::to_yaml(cfg);
        out.close();
        if (!out) {
            log.warn("process.running_config: cannot write {}: {}", tmp, std::strerror(errno));
            std::remove(tmp.c_str());
            return;
        }
    }
    if (std::rename(tmp.c_str(), path->c_str()) != 0) {
        log.warn("process.running_config: cannot rename {} to {}: {}", tmp, *path, std::strerror(errno));
        std::remove(tmp.c_str());
    }
}

int run_proxy(const run_args& args) {
    // SIGTERM, SIGINT and SIGHUP are held (blocked, so pending) until the
    // signal set below exists: one that arrives while dsproxy starts (a
    // SIGHUP from a script that saw the "started" line, a SIGTERM from the
    // service manager) is then handled by the loop instead of taking the
    // default action, which would kill the process.
    sigset_t held, before_start;
    sigemptyset(&held);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&held, s);
    pthread_sigmask(SIG_BLOCK, &held, &before_start);
    auto loaded = config::load(args.file);
    if (!loaded.ok()) {
        for (const auto& d : loaded.errors) std::cerr << config::format(d) << '\n';
        std::cerr << "dsproxy run: configuration " << args.file << " has errors; not starting\n";
        return 1;
    }
    auto log = logger_for(*loaded.value);
    std::string error;

    // Who to run as, decided before anything is bound or written.
    const auto& process = loaded.value->process;
    std::optional<net::account> target;
    if (process.user) {
        target = net::find_account(*process.user, process.group, error);
        if (!target) {
            log->critical("cannot start: process.user: {}", error);
            return 1;
        }
    }
    const auto privileges = net::decide(::geteuid(), target, process.allow_root || args.allow_root);
    if (privileges.action == net::privilege_action::refuse) {
        log->critical("cannot start: {}", privileges.message);
        return 1;
    }

    auto rt = engine::runtime::build(loaded.value, *log, error);
    if (!rt) {
        log->critical("cannot start: {}", error);
        return 1;
    }
    engine::runtime_slot slot(rt);

    // The main thread's loop: signals, reloads, metrics, expiry checks.
    boost::asio::io_context io(1);
    boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    pthread_sigmask(SIG_SETMASK, &before_start, nullptr);  // what was held is delivered to the set now
    engine::server_pool pool(engine::io_thread_count(process.io_threads), slot, log);
    if (!pool.open(error)) {
        log->critical("cannot start: {}", error);
        return 1;
    }
    engine::reload_status reload{true, static_cast<std::int64_t>(std::time(nullptr))};
    engine::metrics_endpoint metrics_http(io, pool.registries(), log, [&slot, &reload] {
        return certificate_gauges(*slot.current()) +
               engine::render_process_metrics(engine::read_process_sample(), DSPROXY_VERSION, reload);
    });
    if (const auto& where = rt->cfg().metric.listen) {
        auto credentials = engine::load_metrics_credentials(rt->cfg().metric, error);
        if (!credentials || !metrics_http.start(*where, std::move(*credentials), error)) {
            log->critical("cannot start: {}", error);
            return 1;
        }
    }

    // Everything that needs root is done: listeners bound, keys read.
    switch (privileges.action) {
        case net::privilege_action::switch_user: {
            for (const auto& path : rt->created_files())
                if (::chown(path.c_str(), target->uid, target->gid) != 0)
                    log->warn("cannot give {} to {}: {}", path, target->user, std::strerror(errno));
            if (!net::switch_to(*target, error)) {
                log->critical("cannot start: switching to user {}: {}", target->user, error);
                return 1;
            }
            log->info("running as user {} group {} (uid {} gid {})", target->user, target->group, target->uid,
                      target->gid);
            if (const auto problem = unreadable_after_switch(args.file, *rt); !problem.empty()) {
                log->critical("cannot start: as user {}: {}; a reload would fail. Make it readable by {} (keys "
                              "owned by {}, mode 0600)",
                              target->user, problem, target->user, target->user);
                return 1;
            }
            break;
        }
        case net::privilege_action::ignore_user: log->warn("{}", privileges.message); break;
        case net::privilege_action::keep_as_root: log->warn("{}", privileges.message); break;
        case net::privilege_action::keep:
        case net::privilege_action::refuse: break;
    }

    pool.run();
    log->info("dsproxy {} started with {}", DSPROXY_VERSION, args.file);
    write_running_config(slot.current()->cfg(), *log);
    const net::service_notifier notifier;
    warn_expiring(*rt, *log);
    rt.reset();  // the slot holds the snapshot now; a reload must be able to free it

    // Daily expiry check on whatever snapshot is current then.
    boost::asio::steady_timer daily(io);
    std::function<void(const boost::system::error_code&)> on_day;
    on_day = [&](const boost::system::error_code& ec) {
        if (ec) return;
        warn_expiring(*slot.current(), *log);
        daily.expires_after(std::chrono::hours(24));
        daily.async_wait(on_day);
    };
    daily.expires_after(std::chrono::hours(24));
    daily.async_wait(on_day);

    bool stopping = false;
    std::function<void(const boost::system::error_code&, int)> on_signal;
    on_signal = [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            notify(notifier, "RELOADING=1\n" + net::monotonic_usec_field(), *log);
            auto fresh = config::load(args.file);
            if (!fresh.ok()) {
                for (const auto& d : fresh.errors) log->error("reload refused: {}", config::format(d));
                log->error("reload refused: {} error(s); the running configuration stays", fresh.errors.size());
                reload.last_successful = false;
            } else if (auto next = engine::runtime::build(fresh.value, *log, error)) {
                warn_start_only_changes(slot.current()->cfg(), next->cfg(), *log);
                pool.apply_limits(next->cfg().limit);
                slot.replace(next);
                log->info("reloaded {}", args.file);
                write_running_config(next->cfg(), *log);
                reload = {true, static_cast<std::int64_t>(std::time(nullptr))};
                warn_expiring(*next, *log);
            } else {
                log->error("reload refused: {}; the running configuration stays", error);
                reload.last_successful = false;
            }
            notify(notifier, "READY=1\nSTATUS=serving", *log);
            signals.async_wait(on_signal);
            return;
        }
        if (stopping) {
            if (sig == SIGINT) {  // a second SIGINT: stop at once
                pool.stop();
                io.stop();
                return;
            }
            signals.async_wait(on_signal);  // a repeated SIGTERM: the drain is under way
            return;
        }
        stopping = true;
        notify(notifier, "STOPPING=1", *log);
        const auto grace = sig == SIGTERM ? std::chrono::steady_clock::duration(slot.current()->cfg().timeout.shutdown_drain)
                                          : std::chrono::steady_clock::duration::zero();
        log->info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        // Re-arm first: the drain may finish before this handler returns
        // (no sessions), and its cancel() must find this wait, or the signal
        // set keeps io.run() alive.
        signals.async_wait(on_signal);
        pool.drain(grace, io.get_executor(), [&] {
            signals.cancel();
            daily.cancel();
            metrics_http.stop();
            pool.stop();  // every session of every thread has ended
            log->info("all sessions closed; exiting");
        });
    };
    signals.async_wait(on_signal);
    // Ready only now: a SIGHUP from the service manager finds its handler.
    notify(notifier, "READY=1\nSTATUS=serving", *log);
    io.run();
    // Shut down: a late SIGTERM/SIGINT/SIGHUP (a service manager repeating
    // itself) must not kill the process with the signal while it unwinds,
    // once the signal set no longer handles them. Blocked, they are dropped.
    // (The I/O threads have them blocked from the start.)
    sigset_t late;
    sigemptyset(&late);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&late, s);
    pthread_sigmask(SIG_BLOCK, &late, nullptr);
    pool.stop();
    pool.join();
    return 0;
}

}  // namespace

subcommand add_run_command(CLI::App& parent) {
    auto args = std::make_shared<run_args>();
    CLI::App* app = parent.add_subcommand("run", "Run the proxy in the foreground (SIGTERM drains, SIGHUP reloads)");
    app->add_option("-c,--config", args->file, "Main configuration file")->capture_default_str();
    app->add_flag("--allow-root", args->allow_root, "Keep running as root (as process.allow_root: true)");
    return {app, [args] { return run_proxy(*args); }};
}

}  // namespace dsproxy::cli
