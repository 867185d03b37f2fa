// match_command — `dsproxy match`: docs/design.md §5 name matching from the command line.
//
//   dsproxy match (--domain D | --host H) (--name N ... [--cn C ...] | --cert FILE)
//                 [--cn-fallback no-san|always] [--explain]
//
// Prints exactly one line, `match <rule> <presented-name>` (exit 0) or
// `nomatch` (exit 1); a usage error, a reference that is not a valid name, or
// an unreadable certificate prints an error on stderr and exits 2. With
// --explain, the verdict line is followed by one line per presented name.
#include "proxy/cli/subcommand.hpp"

#include "matching/name_matcher.hpp"
#include "proxy/log/logging.hpp"
#include "tls/certificate_names.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace dsproxy::cli {

namespace {

struct match_args {
    std::string domain;
    std::string host;
    std::vector<std::string> names;
    std::vector<std::string> cns;
    std::string cert;
    std::string cn_fallback = "no-san";
    bool explain = false;
};

void explain(const matching::reference_name& reference, const matching::match_options& options,
             const matching::match_result& result, const std::vector<std::string>& ips, std::ostream& out) {
    out << "reference: " << to_string(options.rules) << ' ' << reference.text()
        << " (cn-fallback " << to_string(options.cns) << ")\n";
    if (result.names.empty()) out << "  no presented names considered\n";
    for (const auto& v : result.names) {
        out << "  " << to_string(v.source) << ' ' << log::printable(v.name, 1024) << ": ";
        if (v.ignored)
            out << "ignored, " << to_string(*v.ignored);
        else if (v.matched)
            out << "matches by rule " << to_string(*v.matched);
        else
            out << "no " << to_string(options.rules) << " rule matches";
        out << '\n';
    }
    for (const auto& ip : ips) out << "  ip " << ip << ": ignored, IP SANs never match a name\n";
}

int run_match(const match_args& args) {
    matching::match_options options;
    options.rules = args.domain.empty() ? matching::rule_set::host : matching::rule_set::domain;
    options.cns = *matching::parse_cn_fallback(args.cn_fallback);  // validated by CLI11

    std::string error;
    const auto reference =
        matching::reference_name::parse(args.domain.empty() ? args.host : args.domain, &error);
    if (!reference) {
        std::cerr << "dsproxy match: " << error << '\n';
        return exit_usage;
    }

    tls::certificate_names presented;
    if (!args.cert.empty()) {
        auto loaded = tls::load_certificate_names(args.cert, error);
        if (!loaded) {
            std::cerr << "dsproxy match: " << error << '\n';
            return exit_usage;
        }
        presented = std::move(*loaded);
    } else {
        presented.names.dns_names = args.names;
        presented.names.common_names = args.cns;
    }

    const auto result = matching::match(*reference, presented.names, options);
    if (result.matched)
        std::cout << "match " << to_string(result.how) << ' ' << log::printable(result.matched_name, 1024) << '\n';
    else
        std::cout << "nomatch\n";
    if (args.explain) explain(*reference, options, result, presented.ip_addresses, std::cout);
    return result.matched ? 0 : 1;
}

}  // namespace

subcommand add_match_command(CLI::App& parent) {
    auto args = std::make_shared<match_args>();
    CLI::App* app = parent.add_subcommand(
        "match", "Check certificate names against a domain (Domain Security rules) or a host (RFC 6125)");
    auto* domain = app->add_option("--domain", args->domain, "Reference domain, e.g. contoso.com");
    auto* host = app->add_option("--host", args->host, "Reference host name, e.g. mail.contoso.com");
    domain->excludes(host);
    host->excludes(domain);
    auto* name = app->add_option("--name", args->names, "A presented SAN dNSName (repeatable)");
    auto* cn = app->add_option("--cn", args->cns, "A presented subject CN (repeatable)");
    auto* cert = app->add_option("--cert", args->cert, "Read the names from this PEM or DER certificate");
    cert->excludes(name)->excludes(cn);
    app->add_option("--cn-fallback", args->cn_fallback,
                    "When subject CNs count: no-san (only without dNSName SANs) or always")
        ->check(CLI::IsMember({"no-san", "always"}));
    app->add_flag("--explain", args->explain, "Print every presented name and why it did or did not match");
    app->callback([app, domain, host, name, cn, cert] {
        if (domain->count() == 0 && host->count() == 0)
            throw CLI::ValidationError("one of --domain or --host is required");
        if (name->count() == 0 && cn->count() == 0 && cert->count() == 0)
            throw CLI::ValidationError("give the presented names with --name/--cn, or a certificate with --cert");
        (void)app;
    });
    return {app, [args] { return run_match(*args); }};
}

}  // namespace dsproxy::cli
