// upstream_settings — everything the upstream leg of a session needs to know
// about where it connects and under which TLS policy: the hosts in order,
// the policy sources (the YAML floor, what the destination publishes), the
// TLS context, trust and client certificate, timeouts and limits.
//
// Owns: plain data, built by runtime (upstream_for, outbound_upstream_for)
// and read by relay_session, probe_session and upstream_check.
// Must not: hold decisions: next_hop_attempt decides, from requirement().
#pragma once

#include "proxy/engine/dane_check.hpp"
#include "proxy/engine/next_hop_attempt.hpp"
#include "proxy/smtp/capabilities.hpp"
#include "proxy/smtp/limits.hpp"
#include "proxy/sts/policy_cache.hpp"
#include "tls/client_context.hpp"
#include "tls/peer_verification.hpp"
#include "tls/trust_store.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::engine {

using std::chrono::steady_clock;

struct upstream_host {
    std::string host;  // name or IP literal (SNI and match_host use it)
    std::uint16_t port = 25;
    std::vector<std::string> addresses;  // already resolved (outbound routing); empty: resolve `host`
    // DANE (docs/design.md §6.4): this host's TLSA facts and what they
    // demand; null when not looked at (inbound upstreams, `dane: none`
    // still records its skip).
    std::shared_ptr<const host_dane_check> dane;
};

struct upstream_timeouts {
    steady_clock::duration connect = std::chrono::seconds(30);
    steady_clock::duration greeting = std::chrono::minutes(5);   // the banner (RFC 5321 §4.5.3.2.1)
    steady_clock::duration ehlo = std::chrono::minutes(5);       // EHLO/HELO, STARTTLS, XCLIENT
    steady_clock::duration mail = std::chrono::minutes(5);       // MAIL, RSET
    steady_clock::duration rcpt = std::chrono::minutes(5);
    steady_clock::duration data_init = std::chrono::minutes(2);  // 354
    steady_clock::duration data_block = std::chrono::minutes(3); // each write of content
    steady_clock::duration data_final = std::chrono::minutes(10);
    steady_clock::duration tls_handshake = std::chrono::minutes(1);

    // The deadline of the reply the upstream owes next (RFC 5321 §4.5.3.2):
    // `owed` is the client session's awaiting(); `stage`, the server
    // session's, decides when the machine has sent nothing yet.
    steady_clock::duration for_reply(std::optional<smtp::client_session::expect> owed,
                                     smtp::upstream_stage stage) const noexcept {
        using e = smtp::client_session::expect;
        switch (owed.value_or(e::mail)) {
            case e::banner: return greeting;
            case e::ehlo: case e::helo: case e::starttls: case e::xclient: return ehlo;
            case e::mail: case e::rset: case e::quit: break;
            case e::rcpt: return rcpt;
            case e::data: return data_init;
            case e::bdat_chunk: return data_block;
            case e::end_of_data: return data_final;
        }
        return stage == smtp::upstream_stage::end_of_data ? data_final : mail;
    }
};

// What the backend's last EHLO said about DSN, shared by the sessions of one
// configuration snapshot: an inbound listener lists DSN only when the
// backend did (RFC 3461 §4.1: dsproxy has no queue to send the "relayed"
// DSN a relay to a server without DSN owes; docs/configuration.md, DSN).
// Unknown, so not listed, until a session has seen that EHLO (issue 15 item 4).
struct upstream_memo {
    enum : int { unknown = -1, without_dsn = 0, with_dsn = 1 };
    std::atomic<int> dsn{unknown};
    // What a session saw of the backend's EHLO, for the EHLO of later sessions.
    void learn(const smtp::capabilities& backend) noexcept { dsn = backend.dsn ? with_dsn : without_dsn; }
};

struct upstream_settings {
    std::string name;                            // for the log
    std::vector<upstream_host> hosts;            // tried in order
    policy_floor floor;                          // the YAML policy's level and mode
    // What the destination publishes for every host (MTA-STS, docs/design.md
    // §6.4); DANE publishes per host (upstream_host::dane) and takes
    // precedence where it applies (RFC 8461 §2).
    destination_requirement destination = destination_requirement::none;
    config::dane_mode dane = config::dane_mode::opportunistic;  // the policy's `dane` (outbound)
    // MTA-STS, set by the outbound router: whether it was looked up, what
    // applies, and the trust of its certificate check (the `trust` section;
    // null: no MTA-STS check of the next hop).
    bool sts_looked_up = false;
    sts::sts_state sts_state = sts::sts_state::no_policy;
    std::string sts_id;
    const tls::trust_store* sts_trust = nullptr;
    std::string policy_entry = "other";          // the policy entry that applied (metrics; outbound)
    const tls::client_context* tls = nullptr;    // required unless the requirement is no TLS
    std::shared_ptr<const tls::credential> client_certificate;
    // Needed (domain-secure, or client_certificate set) but none can be used
    // as one: why (tls::choose_client_certificate). The session then logs
    // client_certificate=unusable and answers with the policy failure reply.
    std::string client_certificate_problem;
    const tls::trust_store* trust = nullptr;     // verifies the upstream's chain
    tls::verify_request verify;                  // what the level checks after the handshake
    bool match_host = false;                     // also RFC 6125 host rules against the host connected to
    bool xclient = false;
    bool proxy_protocol = false;
    std::shared_ptr<upstream_memo> memo;         // inbound: the backend's; outbound: null
    upstream_timeouts timeouts;
    std::string helo_name = "localhost";
    smtp::smtp_limits limits;
    // What a TLS policy failure on every host answers (docs/design.md §6.1 on_failure):
    // 4xx (defer) or 5xx (reject).
    bool reject_on_policy_failure = false;

    tls_requirement requirement() const { return combine(floor, destination); }
    // Per host, what it publishes (for next_hop_attempt's per-host constructor).
    std::vector<destination_requirement> published() const {
        std::vector<destination_requirement> out;
        for (const auto& h : hosts) out.push_back(published_by(h.dane.get(), destination));
        return out;
    }
    std::string level() const { return level_name(floor); }  // "domain (testing)", for the log
};

}  // namespace dsproxy::engine
