// process_metrics — see process_metrics.hpp.
#include "proxy/engine/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace dsproxy::engine {

namespace {

std::optional<std::string> read_file(const char* path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return std::move(text).str();
}

// The boot time (`btime` of /proc/stat), in seconds since the epoch.
std::optional<std::uint64_t> boot_time() {
    const auto stat = read_file("/proc/stat");
    if (!stat) return std::nullopt;
    std::istringstream lines(*stat);
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with("btime ")) return std::stoull(line.substr(6));  // wire: /proc/stat, proc(5)
    return std::nullopt;
}

void gauge(std::string& out, std::string_view name, std::string_view help, const std::string& value,
           std::string_view type = "gauge", std::string_view labels = "") {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    out += name;
    out += labels;
    out += ' ';
    out += value;
    out += '\n';
}

std::string number(double v) {
    std::ostringstream s;
    s.precision(15);
    s << v;
    return s.str();
}

}  // namespace

std::optional<process_sample> read_process_sample() {
    // /proc/self/stat: the command name is in parentheses and may hold spaces;
    // the fields after it are numbered from 3 (proc(5)).
    const auto stat = read_file("/proc/self/stat");
    const auto boot = boot_time();
    if (!stat || !boot) return std::nullopt;
    const auto close = stat->rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat->substr(close + 2));
    std::vector<std::string> f;
    for (std::string field; fields >> field;) f.push_back(field);
    // f[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
    if (f.size() < 22) return std::nullopt;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    process_sample s;
    s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    s.start_time_seconds = static_cast<double>(*boot) + std::stod(f[19]) / ticks;
    s.virtual_memory_bytes = std::stoull(f[20]);
    s.resident_memory_bytes = std::stoull(f[21]) * page;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
        ++s.open_fds;
    if (s.open_fds > 0) --s.open_fds;  // the directory iterator's own descriptor
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) s.max_fds = limit.rlim_cur;
    return s;
}

std::string render_process_metrics(const std::optional<process_sample>& process, std::string_view version,
                                   const reload_status& reload) {
    std::string out;
    if (process) {
        gauge(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
              number(process->start_time_seconds));
        gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
              std::to_string(process->resident_memory_bytes));
        gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
              std::to_string(process->virtual_memory_bytes));
        gauge(out, "process_open_fds", "Number of open file descriptors.", std::to_string(process->open_fds));
        gauge(out, "process_max_fds", "Maximum number of open file descriptors.", std::to_string(process->max_fds));
        gauge(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
              number(process->cpu_seconds), "counter");
    }
    gauge(out, "dsproxy_build_info", "dsproxy's version (always 1).", "1", "gauge",
          "{version=\"" + std::string(version) + "\"}");
    gauge(out, "dsproxy_config_last_reload_successful",
          "Whether the last configuration load (start or SIGHUP) succeeded (1) or was refused (0).",
          reload.last_successful ? "1" : "0");
    gauge(out, "dsproxy_config_last_reload_success_timestamp_seconds",
          "When the configuration was last loaded successfully, in seconds since the epoch.",
          std::to_string(reload.last_success_timestamp));
    return out;
}

}  // namespace dsproxy::engine
