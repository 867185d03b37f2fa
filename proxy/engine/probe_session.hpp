// probe_session — one connection of `dsproxy probe` (docs/design.md §8, like Postfix's
// posttls-finger): connect to a next hop, read the banner, EHLO, STARTTLS
// per the policy level, and judge the certificate as the relay would.
//
// Owns: the connection for the duration of the probe, driving the same
// sans-I/O smtp::client_session as relay_session (banner, EHLO, STARTTLS,
// EHLO again, QUIT), judging with the same upstream_check (chain and name
// checks through tls::verify_peer and matching/) and feeding the same events
// to the caller's next_hop_attempt, whose answer is the probe's outcome. It
// sends no MAIL: nothing is ever delivered; "ready" is the end of EHLO.
// Must not: print (probe_command does) or decide anything itself: the
// attempt decides, as it does for relay_session.
// Every wait is bounded: each step by the upstream timeout of the
// configuration, capped by the caller's `cap`.
#pragma once

#include "proxy/engine/next_hop_attempt.hpp"
#include "proxy/engine/upstream_check.hpp"
#include "proxy/engine/upstream_settings.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::engine {

namespace asio = boost::asio;

struct probed_certificate {
    std::string subject, issuer, sha256;
    std::time_t not_before = 0, not_after = 0;
    std::vector<std::string> dns_names;
};

enum class probe_outcome {
    unreachable,  // no SMTP session (connect, banner or EHLO failed): the relay tries the next host
    passed,       // the relay would deliver through this host
    refused,      // the TLS policy refuses this host: the relay tries the next one, else 4xx/5xx
    retry_plain,  // opportunistic, the handshake failed: the relay reconnects in plain text
};

struct probe_result {
    probe_outcome outcome = probe_outcome::unreachable;
    attempt_decision decision;  // the attempt's answer: what the relay does next
    std::string reason;   // why it is unreachable or refused; how it passed
    std::string address;  // the address connected to
    std::string banner;   // the greeting's first line
    std::optional<bool> starttls_offered;
    bool tls = false;
    std::string protocol, cipher;
    std::vector<probed_certificate> chain;  // as the peer sent it, its own certificate first
    std::optional<upstream_verdict> verdict;
    bool would_refuse_in_testing = false;   // mode testing: the level failed, the relay delivers anyway
    std::vector<std::string> notes;         // what the SMTP machine noted (e.g. STARTTLS refused)
    // DANE (docs/design.md §6.4), as the relay logs it: `dane=` and `dane_detail=`.
    dane::dane_outcome dane = dane::dane_outcome::not_applicable;
    std::string dane_detail;
};

// Probes `attempt`'s current host (in plain text when attempt.plain()); a
// host DANE refuses outright is not connected to (attempt.on_refused).
asio::awaitable<probe_result> probe_host(const upstream_settings& u, const upstream_host& host,
                                         next_hop_attempt& attempt, std::chrono::steady_clock::duration cap);

}  // namespace dsproxy::engine
