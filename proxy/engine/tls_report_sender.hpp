// tls_report_sender — sends the daily TLS reports of RFC 8460 (docs/design.md §6.4):
// for each receiving domain counted on a day, one report to each `rua`.
//
// Owns: the order of a report run: claim the (day, domain) in the store, so
// that one instance of a fleet sends it; read the counters and the domain's
// `_smtp._tls` record kept with them; build the JSON, gzip it; POST it to
// each https: destination (application/tlsrpt+gzip, any 2xx accepted) and
// hand a §5.3 mail for each mailto: destination to dsproxy's own outbound
// listener (net/smtp_submit), so it leaves like relayed mail; then mark the
// report sent when one destination took it, else release the claim for the
// next run.
// Must not: count (the relay does), decide when to run (the caller: `dsproxy
// tls-report send`, or the daily run), or log (it returns what happened).
#pragma once

#include "proxy/net/https_client.hpp"
#include "proxy/store/policy_store.hpp"
#include "proxy/sts/tlsrpt_report.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::engine {

namespace asio = boost::asio;

struct report_run_settings {
    sts::report_sender_facts facts;
    std::string owner;                         // this instance, in the claim
    std::optional<std::string> mail_host;      // the outbound listener (IP literal); none: mailto: is skipped
    std::uint16_t mail_port = 0;
    std::chrono::steady_clock::duration deadline = std::chrono::seconds(30);  // per destination
    std::int64_t claim_hold = 600;             // seconds a claim of an unfinished run blocks others
    // The addresses of an https: collector's host, through the project's
    // resolver (outbound DNS); empty answer: not reachable.
    std::function<asio::awaitable<std::vector<std::string>>(std::string host)> resolve;
};

struct destination_outcome {
    std::string destination;  // "mailto:..." or the https URL
    bool accepted = false;
    std::string detail;       // the collector's status or the SMTP reply, or what failed
};

enum class report_outcome { sent, failed, already_sent, claimed_elsewhere, no_destination, store_failed };
std::string_view to_string(report_outcome o) noexcept;

struct domain_report {
    std::string domain;
    report_outcome outcome = report_outcome::failed;
    std::string detail;  // store errors
    std::vector<destination_outcome> destinations;
};

// Sends the reports of `day` (all domains counted that day, or `only`).
asio::awaitable<std::vector<domain_report>> send_reports(store::policy_store& store, std::string day,
                                                         std::optional<std::string> only,
                                                         const report_run_settings& settings, net::https_context https,
                                                         std::int64_t now);

// The RFC 5322 Date of `t`: "Thu, 03 Dec 2026 00:10:00 +0000".
std::string mail_date(std::int64_t t);

}  // namespace dsproxy::engine
