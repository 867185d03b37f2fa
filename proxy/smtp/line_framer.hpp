// line_framer — splits a byte stream into CRLF-terminated lines under a hard limit.
//
// Owns: finding line ends and enforcing the line length limit, including
// across reads (the caller keeps the unconsumed bytes and calls again).
// Must not: buffer anything itself beyond a flag, do I/O, or interpret lines.
//
// Threats: a peer that never sends a line end (memory exhaustion) — a line
// over the limit is discarded up to its LF and reported once, so the session
// can answer 500 5.5.2 in order with pipelined commands; a bare LF (smuggling
// of commands through lenient parsers, Postfix's smtpd_forbid_bare_newline)
// is reported, never silently treated as a line end.
#pragma once

#include <cstddef>
#include <string_view>

namespace dsproxy::smtp {

enum class frame_status {
    incomplete,  // no complete line yet; keep the bytes (unless consumed > 0) and read more
    line,        // a CRLF-terminated line; `text` excludes the CRLF
    bare_lf,     // a line ended by LF without CR; `text` excludes the LF
    too_long,    // a line over the limit ended (all of it is consumed, `text` empty)
};

struct frame {
    frame_status status = frame_status::incomplete;
    std::string_view text;      // points into the caller's input
    std::size_t consumed = 0;   // bytes of the input the caller must drop
};

class line_framer {
public:
    // `max_line` counts the line including its CRLF (512 for commands).
    explicit line_framer(std::size_t max_line) noexcept : max_line_(max_line < 2 ? 2 : max_line) {}

    // Looks at the start of `input` (unconsumed bytes, oldest first).
    frame next(std::string_view input) noexcept;

    // True while the rest of an over-long line is being thrown away.
    bool discarding() const noexcept { return discarding_; }
    void reset() noexcept { discarding_ = false; }

private:
    std::size_t max_line_;
    bool discarding_ = false;
};

}  // namespace dsproxy::smtp
