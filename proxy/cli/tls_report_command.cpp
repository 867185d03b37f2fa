// tls_report_command — `dsproxy tls-report`: the TLS reports of RFC 8460
// (docs/design.md §6.4) by hand.
//
//   dsproxy tls-report show [DOMAIN] [-c FILE] [--day YYYY-MM-DD] [--json]
//   dsproxy tls-report send [-c FILE] [--day YYYY-MM-DD] [--domain DOMAIN] [--listener NAME]
//
// show: the counters of a UTC day (default today) from the configured store,
// per receiving domain:
//   domain <domain> day <day> report <none|claimed|sent> [by <owner>]
//   rua <destination>...                 (from the domain's _smtp._tls record)
//   count <policy-type> <result-type|success> <sessions> [<sending-ip> <mx> <mx-ip>]
// with --json, the report that would be sent (RFC 8460 §4) instead.
// send: sends the reports of a day (default yesterday, UTC) now — the same
// run as the daily one — and prints `sent|failed|claimed-elsewhere|...
// <domain>` and one `  <destination> accepted|refused <detail>` line each;
// mailto: reports go through the outbound listener (the first, or
// --listener). Exit: 0 all sent (or nothing to send), 1 any failed, 2 usage
// or configuration errors (tls_reporting missing, store unreadable).
#include "proxy/cli/subcommand.hpp"

#include "config/loader.hpp"
#include "proxy/engine/dns_settings.hpp"
#include "proxy/engine/runtime.hpp"
#include "proxy/engine/tls_report_sender.hpp"
#include "proxy/store/open_store.hpp"
#include "proxy/sts/tlsrpt_record.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <ctime>
#include <iostream>
#include <unistd.h>

namespace dsproxy::cli {

namespace {

namespace asio = boost::asio;

struct report_args {
    std::string file = "conf.d/dsproxy.yaml";
    std::optional<std::string> day;
    std::optional<std::string> domain;
    std::optional<std::string> listener;
    bool json = false;
};

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Store data may come from other instances: never print control bytes raw.
std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
    return out;
}

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || !*name) return "localhost";
    return name;
}

struct loaded_setup {
    std::shared_ptr<const config::config> cfg;
    std::unique_ptr<store::policy_store> store;
};

std::optional<loaded_setup> load(const report_args& args, const char* verb) {
    auto loaded = config::load(args.file);
    if (!loaded.ok()) {
        for (const auto& d : loaded.errors) std::cerr << config::format(d) << '\n';
        std::cerr << "dsproxy tls-report " << verb << ": configuration " << args.file << " has errors\n";
        return std::nullopt;
    }
    std::string error;
    auto s = store::open_store(loaded.value->store, error);
    if (!s) {
        std::cerr << "dsproxy tls-report " << verb << ": store: " << error << '\n';
        return std::nullopt;
    }
    return loaded_setup{std::make_shared<const config::config>(std::move(*loaded.value)), std::move(s)};
}

sts::report_sender_facts facts_of(const config::config& cfg) {
    const auto& r = *cfg.reporting;
    return {r.organization, r.contact, r.from, r.submitter.value_or(host_name())};
}

int run_show(const report_args& args) {
    const auto setup = load(args, "show");
    if (!setup) return exit_usage;
    const std::string day = args.day.value_or(sts::utc_day(now()));
    if (sts::period_of(day).start == 0) {
        std::cerr << "dsproxy tls-report show: --day: not a date (YYYY-MM-DD): " << day << '\n';
        return exit_usage;
    }
    std::vector<std::string> domains;
    if (args.domain) {
        domains.push_back(*args.domain);
    } else {
        auto listed = setup->store->report_domains(day);
        if (!listed.ok()) {
            std::cerr << "dsproxy tls-report show: " << setup->store->describe() << ": " << listed.error.detail << '\n';
            return exit_usage;
        }
        domains = std::move(listed.value);
    }
    for (const auto& domain : domains) {
        const auto counts = setup->store->load_counts(day, domain);
        const auto state = setup->store->report_status(day, domain);
        if (!counts.ok() || !state.ok()) {
            std::cerr << "dsproxy tls-report show: " << (counts.ok() ? state.error.detail : counts.error.detail) << '\n';
            return exit_usage;
        }
        if (args.json) {
            if (!setup->cfg->reporting) {
                std::cerr << "dsproxy tls-report show: --json needs the tls_reporting section\n";
                return exit_usage;
            }
            std::cout << sts::build_report(facts_of(*setup->cfg), sts::period_of(day), domain, counts.value.counts);
            continue;
        }
        std::cout << "domain " << domain << " day " << day << " report " << store::to_string(state.value.state);
        if (state.value.state != store::report_state::none) std::cout << " by " << printable(state.value.owner);
        std::cout << '\n';
        const auto record = sts::parse_tlsrpt_record(counts.value.record);
        if (!record.rua.empty()) {
            std::cout << "rua";
            for (const auto& d : record.rua) std::cout << ' ' << printable(sts::to_string(d));
            std::cout << '\n';
        }
        for (const auto& c : counts.value.counts) {
            std::cout << "count " << sts::to_string(c.key.type) << ' '
                      << (c.key.failure ? sts::to_string(*c.key.failure) : std::string_view("success")) << ' ' << c.count;
            if (c.key.failure)
                std::cout << ' ' << printable(c.key.sending_ip) << ' ' << printable(c.key.receiving_mx) << ' '
                          << printable(c.key.receiving_ip);
            std::cout << '\n';
        }
    }
    return 0;
}

int run_send(const report_args& args) {
    const auto setup = load(args, "send");
    if (!setup) return exit_usage;
    const auto& cfg = *setup->cfg;
    if (!cfg.reporting) {
        std::cerr << "dsproxy tls-report send: no tls_reporting section in " << args.file << ": reporting is off\n";
        return exit_usage;
    }
    const std::string day = args.day.value_or(sts::utc_day(now() - 86400));
    if (sts::period_of(day).start == 0) {
        std::cerr << "dsproxy tls-report send: --day: not a date (YYYY-MM-DD): " << day << '\n';
        return exit_usage;
    }
    engine::report_run_settings settings;
    settings.facts = facts_of(cfg);
    settings.owner = settings.facts.submitter + "/" + std::to_string(::getpid());
    for (const auto& l : cfg.listeners)
        if (args.listener ? l.name == *args.listener : l.role == config::listener_role::outbound) {
            if (!l.listen.empty()) {
                settings.mail_host = l.listen.front().host;
                settings.mail_port = l.listen.front().port;
            }
            break;
        }
    if (args.listener && !settings.mail_host) {
        std::cerr << "dsproxy tls-report send: --listener: no listener `" << *args.listener << "`\n";
        return exit_usage;
    }
    std::string error;
    const auto trust = tls::trust_store::load(engine::trust_settings_for(cfg.trust_store), error);
    auto client = trust ? tls::client_context::create({}, error) : std::nullopt;
    if (!trust || !client) {
        std::cerr << "dsproxy tls-report send: " << error << '\n';
        return exit_usage;
    }
    asio::io_context io;
    auto resolver = net::dns_resolver::create(io.get_executor(), engine::resolver_settings_for(cfg.outbound), error);
    if (!resolver) {
        std::cerr << "dsproxy tls-report send: DNS resolver: " << error << '\n';
        return exit_usage;
    }
    settings.resolve = [&resolver](std::string host) -> asio::awaitable<std::vector<std::string>> {
        std::vector<std::string> out;
        if (config::parse_ip(host)) {
            out.push_back(host);
            co_return out;
        }
        const auto answer = co_await resolver->resolve_host(host);
        for (const auto& a : answer.addresses) out.push_back(a.text);
        co_return out;
    };
    auto done = asio::co_spawn(io,
                               engine::send_reports(*setup->store, day, args.domain, settings,
                                                    net::https_context{*client, *trust}, now()),
                               asio::use_future);
    io.run();
    resolver.reset();
    int status = 0;
    for (const auto& r : done.get()) {
        std::cout << engine::to_string(r.outcome) << ' ' << r.domain << (r.detail.empty() ? "" : " " + r.detail) << '\n';
        for (const auto& d : r.destinations)
            std::cout << "  " << printable(d.destination) << ' ' << (d.accepted ? "accepted" : "refused") << ' '
                      << printable(d.detail) << '\n';
        if (r.outcome == engine::report_outcome::failed || r.outcome == engine::report_outcome::store_failed) status = 1;
    }
    return status;
}

}  // namespace

subcommand add_tls_report_command(CLI::App& parent) {
    auto* app = parent.add_subcommand("tls-report", "TLS reports (RFC 8460): show today's counters, send reports now");
    app->require_subcommand(1);
    auto args = std::make_shared<report_args>();
    auto* show = app->add_subcommand("show", "Print a day's counters (default today, UTC)");
    show->add_option("domain", args->domain, "Only this receiving domain");
    show->add_option("-c,--config", args->file, "Main configuration file")->capture_default_str();
    show->add_option("--day", args->day, "UTC day, YYYY-MM-DD");
    show->add_flag("--json", args->json, "Print the RFC 8460 report that would be sent");
    auto* send = app->add_subcommand("send", "Send a day's reports now (default yesterday, UTC)");
    send->add_option("-c,--config", args->file, "Main configuration file")->capture_default_str();
    send->add_option("--day", args->day, "UTC day, YYYY-MM-DD");
    send->add_option("--domain", args->domain, "Only this receiving domain");
    send->add_option("--listener", args->listener, "The outbound listener that mailed reports go through");
    return {app, [args, show] { return show->parsed() ? run_show(*args) : run_send(*args); }};
}

}  // namespace dsproxy::cli
