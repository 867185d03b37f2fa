// log_target — where the process log goes (`logging.target`, docs/
// configuration.md): stderr, syslog(3) with facility mail, or the journal's
// native protocol; and how a line is framed there. The text of a line (the
// level word and the key=value message) is the same on every target, so one
// grep works everywhere; only the frame differs:
//   stderr              `2026-12-02T01:02:03.456789Z info sid=...`
//   stderr to journald  `<6>info sid=...` — sd-daemon(3) priority prefix, no
//                       timestamp (the journal has its own), when $JOURNAL_STREAM
//                       names the stream fd 2 is (systemd.exec(5))
//   syslog              `info sid=...` through syslog(3): ident dsproxy, the
//                       pid, facility mail, the priority of the level
//   journald            MESSAGE=`info sid=...`, PRIORITY, SYSLOG_FACILITY=2 (mail),
//                       SYSLOG_IDENTIFIER=dsproxy, with sd_journal_send(3)
//
// Owns: the level → syslog priority table and the journal-stream check.
// Must not: format the message itself (logging.cpp does).
#pragma once

#include <spdlog/common.h>

#include <optional>
#include <string_view>
#include <sys/types.h>

namespace dsproxy::log {

enum class target { stderr_stream, syslog, journald };

// The syslog(3) priority (LOG_DEBUG ... LOG_CRIT) of a level: trace and
// debug are debug, warn is warning, err is err, critical is crit.
int syslog_priority(spdlog::level::level_enum level);

// $JOURNAL_STREAM's "DEVICE:INODE" (decimal), or nullopt when it is not that.
struct stream_id {
    dev_t device = 0;
    ino_t inode = 0;
};
std::optional<stream_id> parse_journal_stream(std::string_view value);

// True when `fd` is the stream that `journal_stream` ($JOURNAL_STREAM, may be
// null) names. systemd sets it for a unit whose stderr goes to the journal; a
// child whose stderr was redirected elsewhere inherits the variable but not
// the stream, and must not get prefixes.
bool is_journal_stream(int fd, const char* journal_stream);

// The sink of `t`, and whether its lines carry their own timestamp and a
// `<N>` priority prefix.
struct destination {
    spdlog::sink_ptr sink;
    bool timestamp = true;
    bool priority_prefix = false;
};
destination make_destination(target t);

}  // namespace dsproxy::log
