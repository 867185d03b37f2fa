// logging — the process logger (spdlog, text or JSON lines, to stderr, syslog
// or the journal: log_target.hpp) and the
// per-session logger that puts the session id on every line (docs/design.md §8).
//
// Owns: logger construction. main builds one logger and passes it down; there
// is no global logger.
// Must not: log secrets (keys, passwords, message contents).
#pragma once

#include "proxy/log/log_target.hpp"

#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <string_view>

namespace dsproxy::log {

enum class format { text, json };

// A logger writing to `t`. `level` is one of spdlog's level names
// (trace, debug, info, warn, error, critical, off).
std::shared_ptr<spdlog::logger> make_logger(format f, std::string_view level, target t = target::stderr_stream);

// A fresh session id: 12 hex digits, unique within the process and unlikely
// to repeat across restarts.
std::string new_session_id();

// Escapes `text` for a JSON string body (also used for values in text lines
// that come from the network, so a peer cannot forge log lines).
std::string json_escape(std::string_view text);

// The members of one JSON log line for `message`: `"msg":"..."`, and for a
// session line ("sid=ID rest") `"sid":"ID","msg":"rest"`.
std::string json_members(std::string_view message);

// Makes network-supplied text safe for one log line: control bytes become \xNN.
std::string printable(std::string_view text, std::size_t max_length = 256);

}  // namespace dsproxy::log
