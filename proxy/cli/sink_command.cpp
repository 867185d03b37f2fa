// sink_command — `dsproxy sink`: a small development SMTP server that stores
// what it accepts in a Maildir, so the shipped configuration is a complete
// demo on one machine and tests have a real SMTP peer to count messages at.
// It is a test double, not a mail store.
//
//   dsproxy sink --listen 127.0.0.1:2526 --maildir DIR [--fqdn NAME]
//                [--cert FILE [--key FILE]] [--no-fsync] [--fault STAGE=ACTION[@P]]...
//
// With --cert it offers STARTTLS. --fault injects failures (a reply code,
// `close`, or `stall`) at mail, rcpt, data or end-of-data, optionally with a
// probability. SIGTERM/SIGINT stop it.
#include "proxy/cli/subcommand.hpp"

#include "config/address.hpp"
#include "proxy/engine/sink_session.hpp"
#include "proxy/log/logging.hpp"
#include "tls/certificate_store.hpp"
#include "tls/server_context.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <iostream>
#include <memory>

namespace dsproxy::cli {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct sink_args {
    std::vector<std::string> listen{"127.0.0.1:2526"};
    std::string maildir = "maildir";
    std::string fqdn = "localhost";
    std::string cert;
    std::string key;
    bool no_fsync = false;
    std::vector<std::string> faults;
    unsigned seed = 0;
    std::string log_level = "info";
};

struct sink_state {
    std::unique_ptr<net::maildir> store;
    std::optional<tls::server_context> tls;
    engine::sink_settings settings;
    std::mt19937 random;
    std::shared_ptr<spdlog::logger> log;
    std::string fqdn;
    std::size_t sessions = 0;
};

asio::awaitable<void> serve(tcp::socket socket, sink_state& state) {
    ++state.sessions;
    const std::string id = log::new_session_id();
    net::tls_socket client(std::move(socket));
    const std::string address = client.remote_endpoint().address().to_string();
    engine::front_settings front;
    front.session_id = id;
    front.tls = state.tls ? &*state.tls : nullptr;
    front.log = state.log;
    smtp::server_options options;
    options.fqdn = state.fqdn;
    options.session_id = id;
    options.client_address = address;
    options.starttls_offered = state.tls.has_value();
    state.log->info("sid={} sink connect from {}", id, address);
    try {
        engine::sink_session session(std::move(client), std::move(front), std::move(options), state.settings);
        co_await session.run();
    } catch (const std::exception& e) {
        state.log->error("sid={} sink session failed: {}", id, e.what());
    }
    // After everything the peer sent was read and answered: a test that
    // waits for this line has seen all the sink will store from it.
    state.log->info("sid={} sink disconnect", id);
    --state.sessions;
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, sink_state& state) {
    while (true) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), state), asio::detached);
    }
}

int run_sink(const sink_args& args) {
    sink_state state;
    state.log = log::make_logger(log::format::text, args.log_level);
    state.fqdn = args.fqdn;
    state.random.seed(args.seed);
    try {
        state.store = std::make_unique<net::maildir>(args.maildir);
    } catch (const std::exception& e) {
        std::cerr << "dsproxy sink: " << e.what() << '\n';
        return exit_usage;
    }
    state.settings.store = state.store.get();
    state.settings.fsync = !args.no_fsync;
    state.settings.random = &state.random;
    for (const auto& text : args.faults) {
        std::string error;
        auto fault = engine::parse_sink_fault(text, error);
        if (!fault) {
            std::cerr << "dsproxy sink: --fault " << text << ": " << error << '\n';
            return exit_usage;
        }
        state.settings.faults.push_back(*fault);
    }
    std::shared_ptr<const tls::certificate_store> store;
    if (!args.cert.empty()) {
        std::vector<tls::load_problem> problems;
        auto loaded = tls::certificate_store::load({{args.cert, args.key, tls::certificate_use::server}},
                                                   {/*allow_readable_keys=*/true, nullptr}, problems);
        for (const auto& p : problems) std::cerr << "dsproxy sink: " << p.path << ": " << p.detail << '\n';
        if (loaded.all().empty()) return exit_usage;
        store = std::make_shared<const tls::certificate_store>(std::move(loaded));
        tls::server_settings settings;
        settings.certificate.fqdn = args.fqdn;
        settings.certificate.fallback = tls::fallback_mode::any;
        settings.request_client_certificate = true;  // logged, so tests can see a client certificate arrive
        std::string error;
        state.tls = tls::server_context::create(store, settings, error);
        if (!state.tls) {
            std::cerr << "dsproxy sink: " << error << '\n';
            return exit_usage;
        }
    }

    asio::io_context io(1);
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    for (const auto& text : args.listen) {
        std::string error;
        const auto hp = config::parse_host_port(text, {false, std::nullopt}, &error);
        if (!hp) {
            std::cerr << "dsproxy sink: --listen " << text << ": " << error << '\n';
            return exit_usage;
        }
        const tcp::endpoint endpoint(asio::ip::make_address(hp->host), hp->port);
        auto acceptor = std::make_unique<tcp::acceptor>(io);
        boost::system::error_code ec;
        acceptor->open(endpoint.protocol(), ec);
        if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec && endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
        if (!ec) acceptor->bind(endpoint, ec);
        if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            std::cerr << "dsproxy sink: cannot listen on " << text << ": " << ec.message() << '\n';
            return 1;
        }
        state.log->info("sink listening on {} maildir={} starttls={}", text, args.maildir,
                        state.tls ? "offered" : "no");
        acceptors.push_back(std::move(acceptor));
    }
    for (auto& a : acceptors) asio::co_spawn(io, accept_loop(*a, state), asio::detached);
    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int) {
        state.log->info("sink stopping");
        io.stop();
    });
    io.run();
    return 0;
}

}  // namespace

subcommand add_sink_command(CLI::App& parent) {
    auto args = std::make_shared<sink_args>();
    CLI::App* app = parent.add_subcommand(
        "sink",
        "Development SMTP server that stores accepted mail in a Maildir (a test double, not a mail store)");
    app->add_option("--listen", args->listen, "Address:port to listen on (repeatable)")->capture_default_str();
    app->add_option("--maildir", args->maildir, "Maildir to store messages in (created if missing)")
        ->capture_default_str();
    app->add_option("--fqdn", args->fqdn, "Name in the banner and EHLO reply")->capture_default_str();
    app->add_option("--cert", args->cert, "Certificate (PEM, with key or --key): offer STARTTLS");
    app->add_option("--key", args->key, "Key for --cert");
    app->add_flag("--no-fsync", args->no_fsync, "Do not fsync messages (benchmarks only)");
    app->add_option("--fault", args->faults,
                    "Inject a failure: STAGE=ACTION[@PROBABILITY], STAGE mail|rcpt|data|end-of-data, "
                    "ACTION a 4xx/5xx code, close or stall; or tls=close[@P]: close instead of the TLS "
                    "handshake after STARTTLS (repeatable)");
    app->add_option("--seed", args->seed, "Random seed for probabilistic faults");
    app->add_option("--log-level", args->log_level, "trace, debug, info, warn, error")->capture_default_str();
    return {app, [args] { return run_sink(*args); }};
}

}  // namespace dsproxy::cli
