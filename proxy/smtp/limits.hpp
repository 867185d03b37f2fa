// limits — every buffer, count and size limit of the SMTP protocol core.
//
// Owns: the named limits (docs/design.md §2) with safe defaults; the engine fills them
// from the configuration. Must not: read configuration or do I/O.
//
// Each limit is exceeded by a test in tests/smtp/ (STYLE habit 5). The reply a
// client gets when it exceeds one is given next to it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dsproxy::smtp {

// What to do with a bare LF or bare CR inside message data (SMTP smuggling,
// CVE-2023-51764/5/6). `reject` answers 554 5.6.0 after the end of data;
// `normalize` turns it into CRLF before the lines are dot-stuffed again
// (data_reader.hpp).
enum class bare_newline_policy { reject, normalize };

struct smtp_limits {
    // RFC 5321 §4.5.3.1.4: 512 octets including CRLF. Over: 500 5.5.2.
    std::size_t command_line_max = 512;
    // RFC 5321 §4.5.3.1.6: 1000 octets including CRLF. Over: 552 5.6.0.
    std::size_t text_line_max = 1000;
    // RFC 5321 §4.5.3.1.5: 512 octets including CRLF, for the upstream's replies.
    // Over: the upstream is treated as broken (client gets 451 4.4.2).
    std::size_t reply_line_max = 512;
    // Lines of one multi-line reply; an EHLO reply has about a dozen.
    std::size_t reply_lines_max = 100;
    // RFC 5321 §4.5.3.1.8: at least 100 must be accepted. Over: 452 4.5.3.
    std::size_t recipients_max = 100;
    // Message size advertised in EHLO SIZE and enforced on data. Over: 552 5.3.4.
    std::uint64_t message_size_max = 50ull * 1024 * 1024;
    // Unrecognised or malformed commands per session, as Postfix's
    // smtpd_hard_error_limit. Reaching it: 421 4.7.0 and close.
    unsigned bad_commands_max = 20;
    // Client bytes held while the session waits for the upstream (pipelined
    // commands). The engine stops reading while wants_input() is false, so
    // this only bounds one read; over it: 421 4.7.0 and close.
    std::size_t pending_input_max = 64 * 1024;
};

}  // namespace dsproxy::smtp
