// process_metrics — the samples every Prometheus exporter is expected to
// have, for the scrape of `dsproxy run` (README, "Metrics"): the standard
// process_* gauges (start time, resident and virtual memory, open and
// maximum descriptors, CPU seconds), dsproxy_build_info, and whether the
// last reload succeeded (dsproxy_config_last_reload_successful, as
// Prometheus names its own).
//
// Owns: reading /proc/self (read_process_sample) and rendering (pure).
// Must not: keep state; the reload status belongs to run_command.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::engine {

struct process_sample {
    double start_time_seconds = 0;  // since the epoch
    std::uint64_t resident_memory_bytes = 0;
    std::uint64_t virtual_memory_bytes = 0;
    std::uint64_t open_fds = 0;
    std::uint64_t max_fds = 0;
    double cpu_seconds = 0;         // user + system
};

// From /proc/self/stat, /proc/stat (boot time), /proc/self/fd and
// RLIMIT_NOFILE; nullopt when /proc cannot be read.
std::optional<process_sample> read_process_sample();

struct reload_status {
    bool last_successful = true;              // a start counts as a successful load
    std::int64_t last_success_timestamp = 0;  // seconds since the epoch
};

// The exposition of the above; `process` may be absent (no /proc).
std::string render_process_metrics(const std::optional<process_sample>& process, std::string_view version,
                                   const reload_status& reload);

}  // namespace dsproxy::engine
