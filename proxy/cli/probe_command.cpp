// probe_command — `dsproxy probe`: what would the outbound relay decide for
// a domain's next hops? (docs/design.md §8, like Postfix's posttls-finger)
//
//   dsproxy probe DOMAIN|[HOST]|HOST:PORT [-c FILE] [--level LEVEL] [--domain D]
//                 [--server IP:PORT]... [--listener NAME] [--all] [--timeout SECONDS]
//
// DOMAIN: the route the relay would take — the policy's `route`, else MX
// records by preference, else the domain itself — through the same router,
// resolver (libunbound; the configuration's outbound DNS settings and trust
// anchors, or --server)
// and policy lookup. [HOST] or HOST:PORT (or an IP literal): that host only,
// under the policy of --domain (default: the host name's own lookup, which
// ends at `default`). Each host is connected to, greeted with EHLO, asked
// for STARTTLS as the level says, and its chain and names are checked with
// the relay's own code; the first host that passes ends the probe (--all
// probes every host). Nothing is delivered: no MAIL is sent.
// --level replaces the policy's level (to see what a stricter one would
// say); the policy's other keys (tls_domain, match_host, ca_file, ...) stay.
//
// Output: `policy`, `route` and per host `host`, `banner`, `starttls`,
// `tls`, `certificate N` (subject, issuer, SHA-256, validity, DNS names),
// `chain`, `names`, `result`; then one `verdict` line:
//   verdict pass HOST:PORT ...               exit 0: the relay would deliver there
//   verdict refuse CODE ENHANCED TEXT        exit 1: the policy refuses every host
//   verdict fail ...                         exit 2: no route, or no host reachable
// Usage and configuration errors exit 2. Every wait is bounded by the
// configuration's upstream timeouts, each capped at --timeout (30 s).
#include "proxy/cli/subcommand.hpp"

#include "config/loader.hpp"
#include "config/value_kinds.hpp"
#include "proxy/engine/dns_settings.hpp"
#include "proxy/engine/outbound_router.hpp"
#include "proxy/engine/probe_session.hpp"
#include "proxy/engine/runtime.hpp"
#include "proxy/log/logging.hpp"
#include "proxy/cli/exit_code_of.hpp"
#include "proxy/net/dns_resolver.hpp"
#include "tls/certificate_info.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <random>

namespace dsproxy::cli {

namespace {

namespace asio = boost::asio;

struct probe_args {
    std::string target;
    std::string file{config::default_main_file};
    std::optional<std::string> level;
    std::optional<std::string> domain;
    std::vector<std::string> servers;
    std::optional<std::string> listener;
    bool all = false;
    int timeout_seconds = 30;
};

// A target: a domain to route, or one host to connect to.
struct probe_target {
    std::string name;  // domain, or host name / IP literal
    bool host = false;
    std::optional<std::uint16_t> port;
};

std::optional<probe_target> parse_target(const std::string& text, std::string& error) {
    probe_target t;
    std::string rest = text;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string::npos) {
            error = "`" + text + "`: no closing `]`";
            return std::nullopt;
        }
        t.name = rest.substr(1, close - 1);
        t.host = true;
        rest = rest.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') {
            error = "`" + text + "`: expected `:PORT` after `]`";
            return std::nullopt;
        }
    } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
        if (rest.find(':') != colon) {
            error = "`" + text + "`: write an IPv6 address in brackets, `[2001:db8::1]:25`";
            return std::nullopt;
        }
        t.name = rest.substr(0, colon);
        t.host = true;
        rest = rest.substr(colon);
    } else {
        t.name = rest;
        rest.clear();
        t.host = config::parse_ip(t.name).has_value();
    }
    if (!rest.empty()) {
        std::string why;
        const auto port = config::a_port.parse(rest.substr(1), &why);
        if (!port) {
            error = "`" + text + "`: " + why;
            return std::nullopt;
        }
        t.port = *port;
    }
    if (!config::parse_ip(t.name)) {
        std::string why;
        const auto ref = matching::reference_name::parse(t.name, &why);
        if (!ref) {
            error = "`" + t.name + "` is not a domain or host name: " + why;
            return std::nullopt;
        }
        t.name = ref->text();
    }
    return t;
}

std::string hostport(const std::string& host, std::uint16_t port) {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// DNS and certificates are remote input: never print control bytes raw.
std::string clean(std::string_view s) { return log::printable(s, 512); }

// The DNSSEC status of what led to a host, as DANE saw it (RFC 7672 §2.2):
// its name (a secure MX RRset, or a static route), its address records and
// its TLSA answer.
std::string dnssec_text(const dane::host_dane& f) {
    switch (f.skipped) {
    case dane::skip_reason::mode_none: return "not looked at (dane: none)";
    case dane::skip_reason::address_literal: return "not applicable (address literal)";
    case dane::skip_reason::mx_insecure: return "name=insecure";
    case dane::skip_reason::address_insecure: return "name=secure addresses=insecure";
    case dane::skip_reason::tlsa_insecure: return "name=secure addresses=secure tlsa=insecure";
    case dane::skip_reason::no_tlsa: return "name=secure addresses=secure tlsa=none (denial secure)";
    case dane::skip_reason::none: break;
    }
    if (f.state == dane::dane_state::lookup_failed)
        return "name=secure addresses=secure tlsa=" + std::string(routing::to_string(f.lookup_status)) +
               (f.why_bogus.empty() ? "" : " (" + f.why_bogus + ")");
    return "name=secure addresses=secure tlsa=secure";
}

std::string first_line(const smtp::reply& r) { return clean(r.first_line()); }

void print_names(std::ostream& out, const char* what, const matching::match_result& m) {
    if (m.matched) {
        out << "  names " << what << ": match " << matching::to_string(m.how) << ' ' << clean(m.matched_name) << '\n';
        return;
    }
    std::string presented;
    for (const auto& n : m.names) presented += (presented.empty() ? "" : ",") + clean(n.name);
    out << "  names " << what << ": nomatch; presented " << (presented.empty() ? "none" : presented) << '\n';
}

void print_host(std::ostream& out, const engine::upstream_settings& u, const engine::upstream_host& h,
                const engine::probe_result& r) {
    out << "host " << hostport(h.host, h.port);
    if (!r.address.empty()) out << " address " << r.address;
    out << '\n';
    if (!r.banner.empty()) out << "  banner " << r.banner << '\n';
    if (r.starttls_offered) out << "  starttls " << (*r.starttls_offered ? "offered" : "not offered") << '\n';
    for (const auto& n : r.notes) out << "  note " << n << '\n';
    if (r.tls) {
        out << "  tls " << r.protocol << ' ' << r.cipher << '\n';
        for (std::size_t i = 0; i < r.chain.size(); ++i) {
            const auto& c = r.chain[i];
            out << "  certificate " << i << " subject=\"" << clean(c.subject) << "\" issuer=\"" << clean(c.issuer)
                << "\"\n";
            out << "    sha256 " << c.sha256 << '\n';
            out << "    valid " << tls::format_utc(c.not_before) << " to " << tls::format_utc(c.not_after) << '\n';
            std::string dns;
            for (const auto& d : c.dns_names) dns += (dns.empty() ? "" : ",") + clean(d);
            if (!dns.empty()) out << "    dns " << dns << '\n';
        }
        if (u.client_certificate)
            out << "  client_certificate " << clean(u.client_certificate->info.subject) << " (sha256 "
                << u.client_certificate->info.sha256 << ")\n";
        if (r.verdict && r.verdict->checked) {
            const auto& v = r.verdict->result;
            const std::string unrequired = u.verify.check_chain ? "" : " (not required at level " + u.level() + ")";
            if (v.chain == tls::chain_verdict::not_checked) {
                out << "  chain not checked at level " << u.level() << '\n';
            } else if (v.chain == tls::chain_verdict::ok) {
                out << "  chain ok" << unrequired << '\n';
            } else {
                out << "  chain " << tls::to_string(v.chain);
                for (const auto& p : v.problems) out << "; depth " << p.depth << ' ' << clean(p.text);
                out << unrequired << '\n';
            }
            if (v.domain_match)
                print_names(out, ("domain " + u.verify.domain->text() + " (domain rules)").c_str(), *v.domain_match);
            else
                out << "  names not checked at level " << u.level() << '\n';
            if (v.host_match) print_names(out, ("host " + h.host + " (host rules, match_host)").c_str(), *v.host_match);
        }
    }
    if (h.dane) {
        out << "  dnssec " << clean(dnssec_text(h.dane->facts)) << '\n';
        for (const auto& t : h.dane->facts.usable) out << "  tlsa " << dane::to_text(t) << " usable\n";
        for (const auto& t : h.dane->facts.unusable)
            out << "  tlsa " << dane::to_text(t) << " unusable: " << dane::to_string(dane::why_unusable(t)) << '\n';
        out << "  dane " << dane::to_string(r.dane) << ": " << clean(r.dane_detail) << '\n';
    }
    const char* outcome = r.outcome == engine::probe_outcome::passed        ? "pass"
                          : r.outcome == engine::probe_outcome::refused     ? "refuse"
                          : r.outcome == engine::probe_outcome::retry_plain ? "retry"
                                                                            : "unreachable";
    out << "  result " << outcome << ": " << clean(r.reason) << '\n';
}

asio::awaitable<int> probe(const probe_args& args, const probe_target& target, const engine::runtime& rt,
                           const engine::listener_runtime& listener, net::dns_resolver& resolver,
                           std::optional<config::tls_level> level) {
    std::mt19937 random{std::random_device{}()};
    engine::upstream_settings upstream;
    std::string domain, policy_key;
    if (!target.host) {
        engine::outbound_router router(rt, listener, resolver, random, level);
        auto decision = co_await router.route(target.name);
        domain = decision.domain.empty() ? target.name : decision.domain;
        policy_key = decision.policy_key;
        if (decision.refusal) {
            std::cout << "policy " << (policy_key.empty() ? "-" : policy_key) << " domain " << domain << '\n';
            std::cout << "verdict fail no route: " << first_line(*decision.refusal) << '\n';
            co_return exit_usage;
        }
        upstream = std::move(decision.upstream);
    } else {
        domain = args.domain.value_or(config::parse_ip(target.name) ? std::string() : target.name);
        const auto found = rt.cfg().policies.lookup(domain);
        policy_key = std::string(found.key);
        upstream = rt.outbound_upstream_for(listener, *found.policy, domain, level);
        engine::upstream_host h;
        h.host = target.name;
        h.port = target.port.value_or(rt.cfg().outbound.mx_port);
        const auto answer = co_await resolver.resolve_host(target.name);
        for (const auto& a : answer.addresses) h.addresses.push_back(a.text);
        if (h.addresses.empty()) {
            std::cout << "verdict fail cannot resolve " << target.name << ": " << routing::to_string(answer.status)
                      << '\n';
            co_return exit_usage;
        }
        upstream.name = "host:" + target.name;
        upstream.hosts = {h};
    }
    std::cout << "policy " << policy_key << " domain " << (domain.empty() ? "-" : domain) << " level " << upstream.level()
              << (level ? " (--level)" : "") << " on_failure "
              << (upstream.reject_on_policy_failure ? "reject" : "defer") << '\n';
    for (const auto& h : upstream.hosts) {
        std::string addresses;
        for (const auto& a : h.addresses) addresses += (addresses.empty() ? "" : ",") + a;
        std::cout << "route " << hostport(h.host, h.port) << ' ' << addresses << '\n';
    }
    if (!upstream.client_certificate_problem.empty()) {
        // As the relay decides it (issue 15 item 1): the policy needs a client
        // certificate and none can be one; no host is connected to.
        std::cout << "client_certificate unusable " << upstream.client_certificate_problem << '\n';
        if (!upstream.floor.testing) {
            const auto reply = engine::policy_failure_reply(upstream, domain.empty() ? target.name : domain,
                                                            "no usable client certificate", {}, false);
            std::cout << "verdict refuse " << first_line(reply) << '\n';
            co_return 1;
        }
        std::cout << "note mode testing: the relay delivers without a client certificate\n";
    }

    // The relay's own decisions (next_hop_attempt), host after host; --all
    // goes on after a host that passes, with the attempt the relay would
    // start on the next one.
    std::optional<std::string> passed_at;
    bool testing_refusal = false;
    const auto cap = std::chrono::seconds(args.timeout_seconds);
    engine::next_hop_attempt attempt(upstream.floor, upstream.published());
    std::optional<engine::next_step> last;
    while (!upstream.hosts.empty()) {
        const std::size_t index = attempt.host();
        const auto& h = upstream.hosts[index];
        const auto r = co_await engine::probe_host(upstream, h, attempt, cap);
        print_host(std::cout, upstream, h, r);
        last = r.decision.step;
        if (r.decision.step == engine::next_step::next_host || r.decision.step == engine::next_step::plain_retry)
            continue;
        if (r.decision.step == engine::next_step::proceed && !passed_at) {
            passed_at = hostport(h.host, h.port);
            testing_refusal = r.would_refuse_in_testing;
        }
        if (r.decision.step != engine::next_step::proceed || !args.all || index + 1 >= upstream.hosts.size()) break;
        attempt = engine::next_hop_attempt(upstream.floor, upstream.published(), index + 1);
    }
    if (passed_at) {
        std::cout << "verdict pass " << *passed_at
                  << (testing_refusal ? " (mode testing: the level would refuse it)" : "") << '\n';
        co_return 0;
    }
    if (last == engine::next_step::policy_refusal && attempt.policy_failure()) {
        const auto reply = engine::policy_failure_reply(upstream, domain.empty() ? target.name : domain,
                                                        attempt.policy_failure()->text, {},
                                                        attempt.destination_refused());
        std::cout << "verdict refuse " << first_line(reply) << '\n';
        co_return 1;
    }
    std::cout << "verdict fail no host reachable\n";
    co_return exit_usage;
}

int run_probe(const probe_args& args) {
    std::string error;
    const auto target = parse_target(args.target, error);
    if (!target) {
        std::cerr << "dsproxy probe: " << error << '\n';
        return exit_usage;
    }
    std::optional<config::tls_level> level;
    if (args.level) {
        std::string why;
        level = config::parse_enum<config::tls_level>(*args.level, &why);
        if (!level) {
            std::cerr << "dsproxy probe: --level: " << why << '\n';
            return exit_usage;
        }
    }
    auto loaded = config::load(args.file);
    if (!loaded.ok()) {
        for (const auto& d : loaded.errors) std::cerr << config::format(d) << '\n';
        std::cerr << "dsproxy probe: configuration " << args.file << " has errors\n";
        return exit_usage;
    }
    // A copy to probe with: it never creates certificates, and it needs an
    // outbound listener (its fqdn is the EHLO name and picks the client
    // certificate); without one, the first listener's fqdn stands in.
    auto cfg = std::make_shared<config::config>(*loaded.value);
    cfg->certificates.auto_selfsigned = false;
    std::string listener_name;
    for (const auto& l : cfg->listeners)
        if (args.listener ? l.name == *args.listener : l.role == config::listener_role::outbound) {
            listener_name = l.name;
            break;
        }
    if (listener_name.empty()) {
        if (args.listener) {
            std::cerr << "dsproxy probe: --listener: no listener `" << *args.listener << "` in " << args.file << '\n';
            return exit_usage;
        }
        config::listener stand_in;
        stand_in.name = listener_name = "probe";
        stand_in.role = config::listener_role::outbound;
        stand_in.tls = config::listener_tls::none;
        stand_in.fqdn = cfg->listeners.empty() ? "localhost" : cfg->listeners.front().fqdn;
        cfg->listeners.push_back(std::move(stand_in));
    }
    auto log = log::make_logger(log::format::text, "warn");  // certificate problems of the store, on stderr
    const auto rt = engine::runtime::build(cfg, *log, error);
    if (!rt) {
        std::cerr << "dsproxy probe: " << error << '\n';
        return exit_usage;
    }
    const engine::listener_runtime* listener = nullptr;
    for (const auto& l : rt->listeners())
        if (l.spec->name == listener_name) listener = &l;

    asio::io_context io;
    auto rs = engine::resolver_settings_for(cfg->outbound);
    if (!args.servers.empty()) rs.servers = args.servers;
    auto resolver = net::dns_resolver::create(io.get_executor(), rs, error);
    if (!resolver) {
        std::cerr << "dsproxy probe: DNS resolver: " << error << '\n';
        return exit_usage;
    }
    return exit_code_of(io, probe(args, *target, *rt, *listener, *resolver, level), exit_usage);
}

}  // namespace

subcommand add_probe_command(CLI::App& parent) {
    auto args = std::make_shared<probe_args>();
    CLI::App* app = parent.add_subcommand(
        "probe", "Connect to a domain's next hops and show what its TLS policy would decide (no mail is sent)");
    app->add_option("target", args->target, "DOMAIN (routed as the relay does), or [HOST], HOST:PORT, an IP literal")
        ->required();
    app->add_option("-c,--config", args->file, "Main configuration file")->capture_default_str();
    app->add_option("--level", args->level, "Judge at this level instead of the policy's")
        ->check(CLI::IsMember({"none", "opportunistic", "encrypt", "validate", "domain", "domain-secure"}));
    app->add_option("--domain", args->domain, "For a HOST target: the domain whose policy and names apply");
    app->add_option("--server", args->servers, "DNS server IP:PORT, [IPv6]:PORT (repeatable; default: the config's)");
    app->add_option("--listener", args->listener, "The outbound listener whose fqdn and client certificate to use");
    app->add_flag("--all", args->all, "Probe every host of the route, not only up to the first that passes");
    app->add_option("--timeout", args->timeout_seconds, "Cap on each wait, in seconds")->check(CLI::Range(1, 600));
    return {app, [args] { return run_probe(*args); }};
}

}  // namespace dsproxy::cli
