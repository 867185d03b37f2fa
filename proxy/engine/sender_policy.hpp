// sender_policy — the inbound sender check of docs/design.md §6.2 as one pure
// function: may this session send as this sender domain, under its policy?
// (docs/design.md §7)
//
// Owns: the table of docs/design.md §6.2 — what each level requires of the client's
// leg (TLS, min_tls and ciphers, a client certificate, its chain, its names
// by the Domain Security rules) and which reply each failure gets, per
// `on_failure` and `mode`. Its unit test is that table
// (tests/engine/sender_policy_test.cpp).
// Must not: do I/O, touch OpenSSL, or log: it reads the client_tls record
// (smtp::tls_facts) collected once at the handshake and returns a value; the
// caller (runtime::policy_for) logs it, escaped, and counts it.
#pragma once

#include "config/model.hpp"
#include "proxy/smtp/reply.hpp"
#include "proxy/smtp/session_types.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace dsproxy::engine {

struct sender_check {
    const config::domain_policy* policy = nullptr;  // the sender domain's policy (lookup done)
    std::string domain;                             // canonical sender domain; empty: null sender
    const smtp::tls_facts* tls = nullptr;           // null: the session has no TLS
    std::size_t trust = 0;                          // tls->chains[trust] is the check against the policy's trust
    const std::set<std::string, std::less<>>* ciphers = nullptr;  // the policy's own TLS 1.2 cipher names, if any
    bool tls_possible = false;      // the listener has TLS at all
    bool starttls_offered = false;  // ... and offers STARTTLS (not implicit TLS)
};

enum class sender_outcome { passed, refused, would_refuse };

struct sender_judgement {
    sender_outcome outcome = sender_outcome::passed;
    bool checked = false;           // the level asks for anything (above opportunistic): worth a log line
    std::optional<smtp::reply> reply;  // the refusal (in mode testing: what would have been sent)
    std::string reason;             // why, in words (carries certificate names: escape to log)
    std::string matched_name;       // passed from domain up: the name that matched (escape to log) ...
    std::string_view rule;          // ... and by which rule
    std::string_view failure_label; // a failed certificate check, for the metrics ("" otherwise)
    bool domain_secured = false;    // marks the Received header
};

sender_judgement judge_sender(const sender_check& c);

}  // namespace dsproxy::engine
