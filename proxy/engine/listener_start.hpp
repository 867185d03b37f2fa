// listener_start — whether a listener starts, and how, given what the
// certificate store has for it (docs/design.md §4.1; issue 19 item 7).
//
// Owns: the decision, from the listener's settings and the outcome of the
// certificate choice, and the one sentence that says it (the start's and a
// reload's refusal, check-config's error, the log line of a listener that
// runs without STARTTLS by choice).
// Must not: do I/O, look into the store or log. runtime and check-config
// choose the certificate and act on the decision.
#pragma once

#include "config/model.hpp"

#include <optional>
#include <string>

namespace dsproxy::engine {

enum class listener_start {
    as_configured,     // a certificate serves it (or `tls: none`)
    without_starttls,  // `tls: starttls`, no certificate, `without_certificate: plain`: no STARTTLS offered
    refuse,            // not started: the start fails, a reload is refused
};

struct listener_start_decision {
    listener_start action = listener_start::as_configured;
    std::string message;  // empty for as_configured; else names the listener and why
};

// `no_certificate`: why the store has no usable certificate for `l`
// (the selection's reason), or nullopt when one serves it.
listener_start_decision decide_listener_start(const config::listener& l,
                                              const std::optional<std::string>& no_certificate);

}  // namespace dsproxy::engine
