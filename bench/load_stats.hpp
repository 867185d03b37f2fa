// load_stats — what smtp_load counts: sessions that completed, failures by
// reason, session latencies and message-phase timings, per thread, merged
// once at the end (no shared counters on the hot path).
//
// Owns: the per-thread tallies and the JSON summary line.
// Must not: do I/O other than formatting its summary.
// Limits: failure reasons are short fixed phrases ("rcpt: reply 451",
// "connect: Connection refused"), so the map stays small whatever happens.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dsproxy::bench {

struct load_stats {
    std::uint64_t ok = 0;                           // sessions that ended with 221 after QUIT
    std::map<std::string, std::uint64_t> failures;  // reason -> count
    std::vector<std::uint32_t> latency_us;          // whole session, connect to 221
    std::vector<std::uint32_t> handshake_us;        // TLS handshake alone
    std::uint64_t message_bytes = 0;                // bytes of message content sent and accepted
    double message_seconds = 0;                     // DATA 354 to the final 250, summed
    std::uint64_t held = 0;                         // idle mode: sessions established and held
    std::uint64_t tickets = 0;                      // TLS session tickets the server sent

    void fail(const std::string& reason) { ++failures[reason]; }
    void merge(load_stats&& other);
    std::uint64_t failed() const;
};

// Percentile (0..100) of an unsorted sample; 0 for an empty one.
std::uint32_t percentile(std::vector<std::uint32_t>& sample, double p);

// One JSON object on one line: the figures the benchmark driver reads.
std::string to_json(load_stats& s, double elapsed_seconds, double cpu_seconds, unsigned threads);

}  // namespace dsproxy::bench
