// next_hop_attempt — see next_hop_attempt.hpp.
#include "proxy/engine/next_hop_attempt.hpp"

namespace dsproxy::engine {

std::string level_name(const policy_floor& f) {
    return std::string(config::to_name(f.level)) + (f.testing ? " (testing)" : "");
}

std::string_view to_string(destination_requirement r) noexcept {
    switch (r) {
    case destination_requirement::none: return "none";
    case destination_requirement::testing: return "testing";
    case destination_requirement::enforce: return "enforce";
    }
    return "unknown";
}

std::string_view to_string(next_step s) noexcept {
    switch (s) {
    case next_step::proceed: return "proceed";
    case next_step::next_host: return "next_host";
    case next_step::plain_retry: return "plain_retry";
    case next_step::policy_refusal: return "policy_refusal";
    case next_step::give_up: return "give_up";
    }
    return "unknown";
}

tls_requirement combine(const policy_floor& floor, destination_requirement published) {
    tls_requirement r;
    const bool floor_wants_tls = floor.level >= config::tls_level::encrypt;
    const bool floor_requires = floor_wants_tls && !floor.testing;
    const bool destination_requires = published == destination_requirement::enforce;
    if (floor_requires || destination_requires)
        r.starttls = smtp::upstream_tls::required;
    else if (floor.level == config::tls_level::none && published == destination_requirement::none)
        r.starttls = smtp::upstream_tls::none;
    else
        r.starttls = smtp::upstream_tls::opportunistic;
    // Below encrypt the level checks nothing (upstream_check passes it), so
    // enforcing it is harmless; in mode testing it only reports.
    r.enforce_floor = !floor.testing;
    r.enforce_destination = destination_requires;
    r.tls_expected = floor_wants_tls || published != destination_requirement::none;
    r.floor_requires_tls = floor_requires;
    return r;
}

next_hop_attempt::next_hop_attempt(tls_requirement requirement, std::size_t hosts, std::size_t first_host)
    : requirements_{requirement}, hosts_(hosts), host_(first_host) {}

next_hop_attempt::next_hop_attempt(const policy_floor& floor, const std::vector<destination_requirement>& published,
                                   std::size_t first_host)
    : hosts_(published.size()), host_(first_host) {
    for (const auto p : published) requirements_.push_back(combine(floor, p));
    if (requirements_.empty()) requirements_.push_back(combine(floor, destination_requirement::none));
}

bool next_hop_attempt::is_policy_failure(smtp::failure_kind k) const noexcept {
    // Only a connection that had to be TLS can fail the TLS policy.
    if (plain_ || requirement().starttls != smtp::upstream_tls::required) return k == smtp::failure_kind::certificate;
    switch (k) {
    case smtp::failure_kind::starttls_missing:
    case smtp::failure_kind::starttls_refused:
    case smtp::failure_kind::handshake:
    case smtp::failure_kind::certificate: return true;
    default: return false;
    }
}

attempt_decision next_hop_attempt::on_failure(const smtp::upstream_failure& f) {
    attempt_decision d;
    if (done_) {
        // The next hop had accepted the transaction: it broke, no fail-over
        // (the transaction is not ours to repeat elsewhere).
        d.step = next_step::give_up;
        return d;
    }
    would_refuse_.reset();
    if (f.kind == smtp::failure_kind::handshake && !plain_ && requirement().starttls == smtp::upstream_tls::opportunistic) {
        // Opportunistic only: the failed handshake left a dead connection;
        // once more in plain text, same host.
        plain_ = true;
        d.step = next_step::plain_retry;
        d.host = host_;
        return d;
    }
    const bool policy = is_policy_failure(f.kind);
    if (policy) {
        policy_failure_ = f;
        // Required by the destination alone: its failure (a failed
        // certificate check says itself, in on_verdict).
        if (f.kind != smtp::failure_kind::certificate && !requirement().floor_requires_tls) destination_refused_ = true;
    }
    return move_on(policy);
}

attempt_decision next_hop_attempt::move_on(bool policy) {
    attempt_decision d;
    d.policy = policy;
    plain_ = false;
    would_refuse_.reset();
    if (host_ + 1 < hosts_) {
        d.step = next_step::next_host;
        d.host = ++host_;
        return d;
    }
    d.step = policy_failure_ ? next_step::policy_refusal : next_step::give_up;
    return d;
}

attempt_decision next_hop_attempt::on_refused(std::string reason) {
    if (done_) {
        attempt_decision d;
        d.step = next_step::give_up;
        return d;
    }
    policy_failure_ = smtp::upstream_failure{smtp::failure_kind::certificate, std::move(reason)};
    destination_refused_ = true;
    refused_before_connecting_ = true;
    return move_on(true);
}

attempt_decision next_hop_attempt::on_verdict(const certificate_verdict& v, std::string reason) {
    const bool floor_refuses = !v.floor_passed && requirement().enforce_floor;
    const bool destination_refuses = !v.destination_passed && requirement().enforce_destination;
    if (destination_refuses && !floor_refuses) destination_refused_ = true;
    if (floor_refuses || destination_refuses) return on_failure({smtp::failure_kind::certificate, std::move(reason)});
    attempt_decision d;
    if (!v.floor_passed || !v.destination_passed) would_refuse_ = smtp::failure_kind::certificate;
    d.would_refuse = would_refuse_;
    return d;
}

attempt_decision next_hop_attempt::on_ready(bool tls) {
    done_ = true;
    attempt_decision d;
    // From encrypt up a plain connection can only be mode testing here
    // (enforced, STARTTLS was required and the leg failed before).
    if (!tls && requirement().tls_expected && !would_refuse_) would_refuse_ = smtp::failure_kind::starttls_missing;
    d.would_refuse = would_refuse_;
    return d;
}

}  // namespace dsproxy::engine
