// resolve_command — `dsproxy resolve`: where would mail for a domain go?
//
//   dsproxy resolve DOMAIN [--server IP:PORT]... [--timeout-ms N] [--tries N]
//                   [--trust-anchor FILE]... [--no-dnssec]
//                   [--port N] [--max-mx-hosts N] [--max-addresses N]
//                   [--order ipv6-first|ipv4-first|ipv4-only|ipv6-only]
//                   [--route HOST[:PORT]]... [--seed N] [--query route|mx|host]
//                   [--deadline-ms N]
//
// --query route (default) runs the outbound route planner (docs/design.md §1) with the
// resolver exactly as the engine does and prints one line per next hop,
//   hop <host>:<port> <origin> <preference> <address>,<address>...
// then `note <sentence>` per dropped record (exit 0), or
//   fail <code> <enhanced> <text>
// (exit 1). --query mx / host print the resolver's raw answer instead:
//   mx <domain> <status> <count> <dnssec>, then `record <preference> <host>` lines;
//   host <name> <status> <count> <dnssec>, then `address <ip>` lines;
// where <dnssec> is secure, insecure, bogus or failure (RFC 7672 §2.1).
// Answers are validated with the trust anchors given (default: the root's,
// /usr/share/dns/root.key); --no-dnssec validates nothing.
// exit 0 when the status is ok, 1 otherwise. Usage errors exit 2.
// --deadline-ms bounds the whole lookup as a session does (`lookup ||
// deadline`): when it fires first, the lookup is cancelled and the command
// prints `deadline <N>ms` and exits 1.
// A debugging tool for administrators and the integration test; like the
// engine it never blocks on DNS and only talks to the servers it is given
// (or those of /etc/resolv.conf).
#include "proxy/cli/subcommand.hpp"

#include "proxy/cli/exit_code_of.hpp"
#include "proxy/net/route_lookup.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>
#include <random>

// g++ 12 mistakes Asio's coroutine frame operator new/delete pair for a
// mismatch once a coroutine is awaited through awaitable_operators; the
// pair is Asio's own (awaitable_frame_base) and matches.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace dsproxy::cli {

namespace {

namespace asio = boost::asio;

struct resolve_args {
    std::string domain;
    std::vector<std::string> servers;
    std::vector<std::string> trust_anchors;
    bool no_dnssec = false;
    int timeout_ms = 5000;
    int tries = 2;
    int port = 25;
    std::size_t max_mx_hosts = routing::route_limits{}.max_mx_hosts;
    std::size_t max_addresses = routing::route_limits{}.max_addresses_per_host;
    std::string order = "ipv6-first";
    std::vector<std::string> route;
    std::optional<std::uint64_t> seed;
    std::string query = "route";
    int deadline_ms = 0;
};

// DNS data is remote input: never print control bytes raw.
std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
    return out;
}

void print_route(const routing::route_planner& plan, std::ostream& out) {
    for (const auto& hop : plan.hops()) {
        const bool v6 = hop.host.find(':') != std::string::npos;
        out << "hop " << (v6 ? "[" + hop.host + "]" : hop.host) << ':' << hop.port << ' '
            << to_string(hop.origin) << ' ' << hop.preference << ' ';
        for (std::size_t i = 0; i < hop.addresses.size(); ++i) out << (i ? "," : "") << hop.addresses[i].text;
        out << '\n';
    }
    for (const auto& f : plan.findings()) out << "note " << f << '\n';  // names in it are validated
    if (plan.failed())
        out << "fail " << plan.failure().code << ' ' << plan.failure().enhanced << ' ' << plan.failure().text << '\n';
}

asio::awaitable<int> run_query(net::dns_resolver& resolver, const resolve_args& args,
                               routing::route_limits limits, std::vector<routing::static_hop> route) {
    if (args.query == "mx") {
        const auto a = co_await resolver.query_mx(args.domain);
        std::cout << "mx " << args.domain << ' ' << to_string(a.status) << ' ' << a.records.size() << ' '
                  << to_string(routing::dnssec_of(a.status, a.secure)) << '\n';
        for (const auto& r : a.records) std::cout << "record " << r.preference << ' ' << printable(r.host) << '\n';
        co_return a.status == routing::dns_status::ok ? 0 : 1;
    }
    if (args.query == "host") {
        const auto a = co_await resolver.resolve_host(args.domain, routing::families_for(limits.order));
        std::cout << "host " << args.domain << ' ' << to_string(a.status) << ' ' << a.addresses.size() << ' '
                  << to_string(routing::dnssec_of(a.status, a.secure)) << '\n';
        for (const auto& r : a.addresses) std::cout << "address " << r.text << '\n';
        co_return a.status == routing::dns_status::ok ? 0 : 1;
    }
    std::mt19937_64 prng(args.seed ? *args.seed : std::random_device{}());
    auto random = [&prng](std::size_t bound) { return std::uniform_int_distribution<std::size_t>(0, bound - 1)(prng); };
    auto planner = route.empty() ? routing::route_planner(args.domain, limits, random)
                                 : routing::route_planner(args.domain, route, limits);
    const auto plan = co_await net::plan_route(resolver, std::move(planner));
    print_route(plan, std::cout);
    co_return plan.failed() ? 1 : 0;
}

asio::awaitable<int> run_with_deadline(net::dns_resolver& resolver, const resolve_args& args,
                                       routing::route_limits limits, std::vector<routing::static_hop> route) {
    if (args.deadline_ms <= 0) co_return co_await run_query(resolver, args, limits, std::move(route));
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(args.deadline_ms));
    auto result = co_await (run_query(resolver, args, limits, std::move(route)) || timer.async_wait(asio::use_awaitable));
    if (result.index() == 0) co_return std::get<0>(result);
    std::cout << "deadline " << args.deadline_ms << "ms\n";
    co_return 1;
}

int run_resolve(const resolve_args& args) {
    routing::route_limits limits;
    limits.mx_port = static_cast<std::uint16_t>(args.port);
    limits.max_mx_hosts = args.max_mx_hosts;
    limits.max_addresses_per_host = args.max_addresses;
    limits.order = *routing::parse_address_order(args.order);  // validated by CLI11
    std::vector<routing::static_hop> route;
    for (const auto& entry : args.route) {
        std::string error;
        auto hop = routing::parse_static_hop(entry, limits.mx_port, error);
        if (!hop) {
            std::cerr << "dsproxy resolve: --route: " << error << '\n';
            return exit_usage;
        }
        route.push_back(*hop);
    }

    asio::io_context io;
    net::resolver_settings settings;
    settings.servers = args.servers;
    if (args.no_dnssec) settings.trust_anchors.clear();
    else if (!args.trust_anchors.empty()) settings.trust_anchors = args.trust_anchors;
    if (auto problem = net::check_resolver_settings(settings)) {
        std::cerr << "dsproxy resolve: " << *problem << '\n';
        return exit_usage;
    }
    settings.timeout = std::chrono::milliseconds(args.timeout_ms);
    settings.tries = args.tries;
    std::string error;
    auto resolver = net::dns_resolver::create(io.get_executor(), settings, error);
    if (!resolver) {
        std::cerr << "dsproxy resolve: " << error << '\n';
        return exit_usage;
    }
    return exit_code_of(io, run_with_deadline(*resolver, args, limits, std::move(route)), exit_usage);
}

}  // namespace

subcommand add_resolve_command(CLI::App& parent) {
    auto args = std::make_shared<resolve_args>();
    CLI::App* app = parent.add_subcommand("resolve", "Show the next hops for a recipient domain (MX, A/AAAA)");
    app->add_option("domain", args->domain, "Recipient domain (or host name with --query host)")->required();
    app->add_option("--server", args->servers, "DNS server IP:PORT, [IPv6]:PORT (repeatable; default /etc/resolv.conf)");
    app->add_option("--trust-anchor", args->trust_anchors, "DNSSEC trust anchor file (repeatable; default the root's)");
    app->add_flag("--no-dnssec", args->no_dnssec, "Validate nothing: every answer is insecure");
    app->add_option("--timeout-ms", args->timeout_ms, "Per-try DNS timeout in milliseconds")->check(CLI::Range(1, 60000));
    app->add_option("--tries", args->tries, "DNS tries per server")->check(CLI::Range(1, 10));
    app->add_option("--port", args->port, "SMTP port of MX hosts")->check(CLI::Range(1, 65535));
    app->add_option("--max-mx-hosts", args->max_mx_hosts, "MX hosts kept")->check(CLI::Range(1, 100));
    app->add_option("--max-addresses", args->max_addresses, "Addresses kept per host")->check(CLI::Range(1, 100));
    app->add_option("--order", args->order, "Address family order")
        ->check(CLI::IsMember({"ipv6-first", "ipv4-first", "ipv4-only", "ipv6-only"}));
    app->add_option("--route", args->route, "Static route entry HOST[:PORT] (repeatable, tried in order)");
    app->add_option("--seed", args->seed, "Seed for the shuffle of equal MX preferences");
    app->add_option("--deadline-ms", args->deadline_ms, "Bound the whole lookup (cancels it)")
        ->check(CLI::Range(1, 600000));
    app->add_option("--query", args->query, "route (default), mx or host")
        ->check(CLI::IsMember({"route", "mx", "host"}));
    return {app, [args] { return run_resolve(*args); }};
}

}  // namespace dsproxy::cli
