// load_stats — see load_stats.hpp.
#include "bench/load_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dsproxy::bench {

void load_stats::merge(load_stats&& other) {
    ok += other.ok;
    for (const auto& [reason, n] : other.failures) failures[reason] += n;
    latency_us.insert(latency_us.end(), other.latency_us.begin(), other.latency_us.end());
    handshake_us.insert(handshake_us.end(), other.handshake_us.begin(), other.handshake_us.end());
    message_bytes += other.message_bytes;
    message_seconds += other.message_seconds;
    held += other.held;
    tickets += other.tickets;
}

std::uint64_t load_stats::failed() const {
    std::uint64_t n = 0;
    for (const auto& [reason, count] : failures) n += count;
    return n;
}

std::uint32_t percentile(std::vector<std::uint32_t>& sample, double p) {
    if (sample.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sample.size())));
    const std::size_t index = std::clamp<std::size_t>(rank, 1, sample.size()) - 1;
    std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(index), sample.end());
    return sample[index];
}

namespace {

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;
        out += c;
    }
    return out + "\"";
}

}  // namespace

std::string to_json(load_stats& s, double elapsed_seconds, double cpu_seconds, unsigned threads) {
    std::string failures = "{";
    for (const auto& [reason, n] : s.failures)
        failures += (failures.size() > 1 ? "," : "") + quoted(reason) + ":" + std::to_string(n);
    failures += "}";
    const double rate = elapsed_seconds > 0 ? static_cast<double>(s.ok) / elapsed_seconds : 0;
    const double mbps = s.message_seconds > 0 ? static_cast<double>(s.message_bytes) / 1e6 / s.message_seconds : 0;
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "{\"ok\":%llu,\"failed\":%llu,\"held\":%llu,\"elapsed_s\":%.3f,\"sessions_per_s\":%.1f,"
                  "\"latency_us\":{\"p50\":%u,\"p90\":%u,\"p99\":%u,\"max\":%u},"
                  "\"handshake_us\":{\"p50\":%u,\"p99\":%u},\"message_bytes\":%llu,\"message_mb_per_s\":%.1f,"
                  "\"tickets\":%llu,\"generator_cpu_s\":%.3f,\"threads\":%u,\"failures\":",
                  static_cast<unsigned long long>(s.ok), static_cast<unsigned long long>(s.failed()),
                  static_cast<unsigned long long>(s.held), elapsed_seconds, rate, percentile(s.latency_us, 50),
                  percentile(s.latency_us, 90), percentile(s.latency_us, 99), percentile(s.latency_us, 100),
                  percentile(s.handshake_us, 50), percentile(s.handshake_us, 99),
                  static_cast<unsigned long long>(s.message_bytes), mbps,
                  static_cast<unsigned long long>(s.tickets), cpu_seconds, threads);
    return std::string(buf) + failures + "}";
}

}  // namespace dsproxy::bench
