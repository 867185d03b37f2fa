// engine_limits — the engine's fixed durations and sizes, in one place, each
// with the reason for its value (docs/design.md §10). Everything a deployment
// may want to change is configuration (limits, timeouts); these are the
// values that are not: bounds on best-effort steps and buffer sizes.
//
// Owns: constants only. Must not: hold anything a user configures.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace dsproxy::engine::limits {

using namespace std::chrono_literals;

// One read buffer per I/O thread for each leg (front_session, relay_session),
// used only between readiness and processing, so an idle session holds none
// (docs/design.md §9). 64 KiB: in DATA/BDAT a read takes up to four TLS
// records at once, so the per-read work is paid per 64 KiB, not per 16 KiB.
inline constexpr std::size_t read_buffer = 64 * 1024;

// Upstream output gathered before a write is forced: one client read's worth
// of content plus a Received header and the final dot fit.
inline constexpr std::size_t upstream_gather = 64 * 1024;

// dsproxy probe's read buffer: it reads greetings and EHLO replies only.
inline constexpr std::size_t probe_read_buffer = 16 * 1024;

// The longest value a log line carries for a reason, a note or a list
// (recipients): cut there, marked, so one line stays one readable line.
inline constexpr std::size_t log_value = 1024;

// Best-effort goodbyes that nobody waits for: the QUIT to a next hop, the
// 421 at shutdown, a refusal before a session starts (421, 554). Short,
// because the session (or the process) is ending anyway.
inline constexpr auto goodbye = 5s;

// Accepting: how long a thread with clearly more sessions than another
// waits before it looks again (the other takes the next connections), and
// how long it pauses after a failed accept (EMFILE: keep serving the rest).
inline constexpr auto accept_yield = 10ms;
inline constexpr auto accept_error_pause = 100ms;

// Draining: how often the drain looks at the session count, and after the
// drain timeout's 421s how long sessions get to finish before the thread
// gives up on them.
inline constexpr auto drain_tick = 50ms;
inline constexpr auto drain_stop_tick = 20ms;
inline constexpr auto drain_stop_grace = 10s;

// MTA-STS (docs/design.md §6.4): the whole policy fetch a delivery may wait
// for (connect, TLS, request, 64 KiB of answer), and how long a fetcher that
// died holds the store's fetch claim. RFC 8461 gives no figure; a session
// waits for the fetch only when the domain is new or its TXT id changed,
// and the client's own RCPT timeout (RFC 5321: 5 minutes) is far above it.
inline constexpr auto sts_fetch = 10s;
inline constexpr std::int64_t sts_claim_hold_seconds = 60;

}  // namespace dsproxy::engine::limits
