// logging — see logging.hpp.
#include "proxy/log/logging.hpp"

#include "proxy/log/log_target.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

namespace dsproxy::log {

namespace {

// %* in a pattern: the message as JSON members (json_members).
class json_message_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        const auto members = json_members(std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(members.data(), members.data() + members.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<json_message_flag>(); }
};

// %Q in a pattern: the sd-daemon(3) priority prefix `<N>` of the line's level.
class priority_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        const auto prefix = "<" + std::to_string(syslog_priority(msg.level)) + ">";
        dest.append(prefix.data(), prefix.data() + prefix.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<priority_flag>(); }
};

}  // namespace

std::shared_ptr<spdlog::logger> make_logger(format f, std::string_view level, target t) {
    const auto where = make_destination(t);
    auto logger = std::make_shared<spdlog::logger>("dsproxy", where.sink);
    // A stream needs a newline per line; syslog(3) and the journal take one line per call.
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc,
                                                                 t == target::stderr_stream ? "\n" : "");
    // Only the frame differs between targets (log_target.hpp): the timestamp
    // where the target has none of its own, the priority prefix for the journal's stream.
    std::string pattern = where.priority_prefix ? "%Q" : "";
    if (f == format::json)
        pattern += where.timestamp ? R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%*})" : R"({"level":"%l",%*})";
    else
        pattern += where.timestamp ? "%Y-%m-%dT%H:%M:%S.%fZ %l %v" : "%l %v";
    formatter->add_flag<json_message_flag>('*');
    formatter->add_flag<priority_flag>('Q');
    formatter->set_pattern(pattern);
    logger->set_formatter(std::move(formatter));
    logger->set_level(spdlog::level::from_str(std::string(level)));
    logger->flush_on(spdlog::level::trace);
    return logger;
}

std::string new_session_id() {
    static std::atomic<std::uint32_t> counter{0};
    static const std::uint32_t base = [] {
        std::random_device rd;
        return rd();
    }();
    const std::uint64_t id = (static_cast<std::uint64_t>(base & 0xffffu) << 32) | (base ^ counter.fetch_add(1));
    char buf[16];
    std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(id & 0xffffffffffffULL));
    return buf;
}

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out;
}

std::string json_members(std::string_view message) {
    // Session lines start "sid=<id> " (the session logger's prefix): the id
    // becomes a member of its own, so that a collector can group by it.
    constexpr std::string_view prefix = "sid=";
    if (message.starts_with(prefix)) {
        const auto end = message.find(' ', prefix.size());
        const auto id = message.substr(prefix.size(), end == std::string_view::npos ? end : end - prefix.size());
        if (!id.empty()) {
            const auto rest = end == std::string_view::npos ? std::string_view() : message.substr(end + 1);
            return "\"sid\":\"" + json_escape(id) + "\",\"msg\":\"" + json_escape(rest) + '"';
        }
    }
    return "\"msg\":\"" + json_escape(message) + '"';
}

std::string printable(std::string_view text, std::size_t max_length) {
    std::string out;
    for (unsigned char c : text.substr(0, max_length)) {
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (text.size() > max_length) out += "...";
    return out;
}

}  // namespace dsproxy::log
