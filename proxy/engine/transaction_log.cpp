// transaction_log — see transaction_log.hpp.
#include "proxy/engine/transaction_log.hpp"

#include "proxy/engine/engine_limits.hpp"
#include "proxy/log/value.hpp"

#include <fmt/format.h>

namespace dsproxy::engine {

std::string transaction_line(const transaction_record& t) {
    std::string rcpts;
    for (const auto& r : t.recipients) rcpts += (rcpts.empty() ? "" : ",") + r;
    // Every line of the final reply: a next hop's queue id is often on the
    // last line of a multi-line 250 (issue 15 item 3).
    const std::string result = t.final_reply ? log::value(t.final_reply->joined(" | "), limits::log_value)
                                             : log::value("failed: " + t.failure);
    return fmt::format("from={} to={} size={} upstream={} result={} duration_ms={} host={} tls={} dane={} sts={} sts_id={}",
                       log::value(t.from), rcpts.empty() ? "-" : log::value(rcpts, limits::log_value), t.size,
                       t.upstream, result, t.duration.count(), t.host.empty() ? "-" : log::value(t.host),
                       log::value(t.tls.empty() ? "-" : t.tls, limits::log_value),
                       t.dane.empty() ? "-" : log::value(t.dane), t.sts.empty() ? "-" : log::value(t.sts),
                       t.sts_id.empty() ? "-" : log::value(t.sts_id));
}

transaction_record transaction_in_flight::end(const smtp::reply* final_reply, std::string_view failure,
                                               std::string upstream, std::string host, std::string tls,
                                               steady_clock::time_point now) {
    transaction_record t;
    t.from = from.to_wire();
    t.recipients = std::move(recipients);
    t.size = size;
    t.upstream = std::move(upstream);
    if (final_reply) t.final_reply = *final_reply;
    t.failure = failure;
    t.duration = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
    t.host = std::move(host);
    t.tls = std::move(tls);
    return t;
}

std::string tls_summary(const net::tls_facts& facts, const upstream_verdict& verdict) {
    std::string out = facts.protocol + " " + std::string(verdict_word(verdict));
    if (const auto& m = verdict.result.domain_match; m && m->matched)
        out += " matched=" + log::value(m->matched_name) + " rule=" + std::string(matching::to_string(m->how));
    return out;
}

std::string host_list(const std::vector<upstream_host>& hosts) {
    std::string out;
    for (const auto& h : hosts) out += (out.empty() ? "" : ",") + h.host + ":" + std::to_string(h.port);
    return out;
}

}  // namespace dsproxy::engine
