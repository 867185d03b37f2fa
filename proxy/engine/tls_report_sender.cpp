// tls_report_sender — see tls_report_sender.hpp.
#include "proxy/engine/tls_report_sender.hpp"

#include "proxy/net/smtp_submit.hpp"
#include "proxy/sts/tlsrpt_record.hpp"

#include <ctime>

namespace dsproxy::engine {

namespace {

asio::awaitable<destination_outcome> deliver(const sts::report_destination& d, const std::string& domain,
                                             const sts::report_period& period, const std::string& gzipped,
                                             const report_run_settings& settings, net::https_context https,
                                             std::int64_t now) {
    destination_outcome out{sts::to_string(d), false, {}};
    if (d.how == sts::report_destination::kind::https) {
        net::https_request request;
        request.url = d.url;
        request.post = true;
        request.content_type = "application/tlsrpt+gzip";
        request.body = gzipped;
        net::https_limits limits;
        limits.deadline = settings.deadline;
        std::vector<std::string> addresses;
        if (settings.resolve) addresses = co_await settings.resolve(d.url.host);
        if (settings.resolve && addresses.empty()) {
            out.detail = "no address for " + d.url.host;
            co_return out;
        }
        const auto r = co_await net::https_exchange(request, addresses, https, limits);
        if (r.error != sts::fetch_error::none) {
            out.detail = r.detail;
        } else {
            out.accepted = r.status >= 200 && r.status < 300;  // RFC 8460 §5.2: 2xx is success
            out.detail = "HTTP " + std::to_string(r.status);
        }
        co_return out;
    }
    if (!settings.mail_host) {
        out.detail = "no outbound listener to send mail through";
        co_return out;
    }
    net::submission s{*settings.mail_host, settings.mail_port, settings.facts.submitter, settings.facts.from, d.address,
                      sts::build_report_mail(settings.facts, period, domain, d.address, gzipped, mail_date(now))};
    const auto r = co_await net::submit_message(s, settings.deadline);
    out.accepted = r.accepted;
    out.detail = r.reply;
    co_return out;
}

}  // namespace

std::string_view to_string(report_outcome o) noexcept {
    switch (o) {
        case report_outcome::sent: return "sent";
        case report_outcome::failed: return "failed";
        case report_outcome::already_sent: return "already-sent";
        case report_outcome::claimed_elsewhere: return "claimed-elsewhere";
        case report_outcome::no_destination: return "no-destination";
        case report_outcome::store_failed: return "store-failed";
    }
    return "?";
}

std::string mail_date(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char out[64];
    std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return out;
}

asio::awaitable<std::vector<domain_report>> send_reports(store::policy_store& store, std::string day,
                                                         std::optional<std::string> only,
                                                         const report_run_settings& settings, net::https_context https,
                                                         std::int64_t now) {
    std::vector<domain_report> out;
    std::vector<std::string> domains;
    if (only) {
        domains.push_back(*only);
    } else {
        auto listed = store.report_domains(day);
        if (!listed.ok()) {
            out.push_back({"*", report_outcome::store_failed, listed.error.detail, {}});
            co_return out;
        }
        domains = std::move(listed.value);
    }
    const auto period = sts::period_of(day);
    for (const auto& domain : domains) {
        domain_report report{domain, report_outcome::failed, {}, {}};
        const auto counts = store.load_counts(day, domain);
        if (!counts.ok()) {
            report.outcome = report_outcome::store_failed;
            report.detail = counts.error.detail;
            out.push_back(std::move(report));
            continue;
        }
        const auto record = sts::parse_tlsrpt_record(counts.value.record);
        if (record.status != sts::record_status::ok || record.rua.empty() || counts.value.counts.empty()) {
            report.outcome = report_outcome::no_destination;
            out.push_back(std::move(report));
            continue;
        }
        const auto claim = store.claim_report(day, domain, settings.owner, now, settings.claim_hold);
        if (!claim.ok() || !claim.value) {
            const auto state = claim.ok() ? store.report_status(day, domain).value.state : store::report_state::none;
            report.outcome = !claim.ok()                           ? report_outcome::store_failed
                             : state == store::report_state::sent ? report_outcome::already_sent
                                                                   : report_outcome::claimed_elsewhere;
            report.detail = claim.error.detail;
            out.push_back(std::move(report));
            continue;
        }
        const std::string gzipped = sts::gzip(sts::build_report(settings.facts, period, domain, counts.value.counts));
        bool any = false;
        for (const auto& d : record.rua) {
            auto result = co_await deliver(d, domain, period, gzipped, settings, https, now);
            any = any || result.accepted;
            report.destinations.push_back(std::move(result));
        }
        report.outcome = any ? report_outcome::sent : report_outcome::failed;
        if (auto e = store.finish_report(day, domain, settings.owner, any); !e.ok()) report.detail = e.detail;
        out.push_back(std::move(report));
    }
    co_return out;
}

}  // namespace dsproxy::engine
