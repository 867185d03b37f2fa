// reply_parser — the upstream's replies, single- and multi-line (RFC 5321 §4.2.1).
//
// Owns: framing replies out of the upstream byte stream, checking that every
// line of a reply carries the same code, extracting the enhanced status code,
// and the line length and line count limits. Must not: do I/O or act on
// replies (client_session does).
//
// Threats: an upstream that sends endless continuation lines or endless
// lines (memory); replies whose lines disagree on the code (a confused or
// hostile peer; refused rather than guessed at).
#pragma once

#include "proxy/smtp/limits.hpp"
#include "proxy/smtp/line_framer.hpp"
#include "proxy/smtp/reply.hpp"

#include <string_view>

namespace dsproxy::smtp {

enum class reply_error {
    none,
    malformed,           // not "NNN", "NNN text" or "NNN-text"
    inconsistent_code,   // continuation lines with another code
    line_too_long,       // over smtp_limits::reply_line_max
    too_many_lines,      // over smtp_limits::reply_lines_max
};

std::string_view to_string(reply_error e) noexcept;

struct reply_parse {
    enum class status { incomplete, complete, failed } state = status::incomplete;
    reply value;                       // when complete
    reply_error error = reply_error::none;
    std::size_t consumed = 0;          // bytes of the input the caller must drop
};

class reply_parser {
public:
    explicit reply_parser(const smtp_limits& limits)
        : framer_(limits.reply_line_max), lines_max_(limits.reply_lines_max) {}

    // Reads lines from the start of `input` until one reply is complete, an
    // error occurs, or the input runs out (then everything consumed so far is
    // remembered; call again with the rest plus new bytes).
    reply_parse next(std::string_view input);

private:
    line_framer framer_;
    std::size_t lines_max_;
    reply partial_;
};

}  // namespace dsproxy::smtp
