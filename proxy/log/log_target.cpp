// log_target — see log_target.hpp.
#include "proxy/log/log_target.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <mutex>

namespace dsproxy::log {

namespace {

constexpr std::string_view identifier = "dsproxy";

// The journal's native protocol with the fields rsyslog and journalctl
// filter on (spdlog's systemd_sink sets no facility, so rsyslog would file
// the lines under `user`, not `mail`). A line the journal refuses is dropped:
// logging must never stop a session.
class journal_sink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t line;
        formatter_->format(msg, line);
        (sd_journal_send)("MESSAGE=%.*s", static_cast<int>(line.size()), line.data(), "PRIORITY=%d",
                          syslog_priority(msg.level), "SYSLOG_FACILITY=%d", LOG_MAIL >> 3, "SYSLOG_IDENTIFIER=%.*s",
                          static_cast<int>(identifier.size()), identifier.data(), nullptr);
    }
    void flush_() override {}
};

template <class T>
bool parse_number(std::string_view text, T& out) {
    unsigned long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return false;
    out = static_cast<T>(value);
    return static_cast<unsigned long long>(out) == value;
}

}  // namespace

int syslog_priority(spdlog::level::level_enum level) {
    static constexpr std::array<int, spdlog::level::n_levels> table{
        LOG_DEBUG,    // trace
        LOG_DEBUG,    // debug
        LOG_INFO,     // info
        LOG_WARNING,  // warn
        LOG_ERR,      // err
        LOG_CRIT,     // critical
        LOG_INFO,     // off (never logged)
    };
    return table.at(static_cast<std::size_t>(level));
}

std::optional<stream_id> parse_journal_stream(std::string_view value) {
    const auto colon = value.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    stream_id id;
    if (!parse_number(value.substr(0, colon), id.device) || !parse_number(value.substr(colon + 1), id.inode))
        return std::nullopt;
    return id;
}

bool is_journal_stream(int fd, const char* journal_stream) {
    if (!journal_stream) return false;
    const auto id = parse_journal_stream(journal_stream);
    struct stat st{};
    return id && ::fstat(fd, &st) == 0 && st.st_dev == id->device && st.st_ino == id->inode;
}

destination make_destination(target t) {
    switch (t) {
        case target::syslog:
            return {std::make_shared<spdlog::sinks::syslog_sink_mt>(std::string(identifier), LOG_PID, LOG_MAIL, true),
                    false, false};
        case target::journald: return {std::make_shared<journal_sink>(), false, false};
        case target::stderr_stream: break;
    }
    const bool journal = is_journal_stream(STDERR_FILENO, std::getenv("JOURNAL_STREAM"));
    return {std::make_shared<spdlog::sinks::stderr_sink_mt>(), !journal, journal};
}

}  // namespace dsproxy::log
