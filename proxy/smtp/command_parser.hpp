// command_parser — one SMTP command line to a verb and its argument text.
//
// Owns: the verb table (RFC 5321 §4.1, RFC 3030 BDAT, RFC 3207 STARTTLS,
// RFC 4954 AUTH) with, per verb, whether it takes arguments, and the rows for
// HTTP methods that mean someone is talking HTTP to the SMTP port (docs/design.md §10:
// the session closes). Must not: decide whether a command is allowed now
// (that is the session's transition table) or parse paths (see address.hpp).
//
// Verbs are ASCII case-insensitive. A command line holds printable ASCII and
// SP/HTAB only (or UTF-8 bytes, which SMTPUTF8 paths may contain); NUL and
// other control bytes make the line malformed.
#pragma once

#include <span>
#include <string_view>

namespace dsproxy::smtp {

enum class verb {
    ehlo, helo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, expn, help, starttls, auth,
    http,     // GET, POST, CONNECT, ...: not SMTP, close the session
    unknown,  // not in the table: 500 5.5.2
};

enum class arguments { none, optional, required };

struct verb_row {
    std::string_view name;
    verb id;
    arguments args;
};

// The table itself, for the session and for tests that walk every row.
std::span<const verb_row> verb_table() noexcept;

enum class command_error {
    none,
    bad_characters,      // NUL / control bytes: 500 5.5.2
    unexpected_argument, // e.g. "DATA x": 501 5.5.4
    missing_argument,    // e.g. "EHLO": 501 5.5.4
};

struct command {
    verb id = verb::unknown;
    std::string_view name;  // as the client wrote it
    std::string_view args;  // after the verb and its separating spaces, trailing spaces removed
    command_error error = command_error::none;
};

// `line` is one command line without its CRLF.
command parse_command(std::string_view line) noexcept;

std::string_view to_string(verb v) noexcept;

}  // namespace dsproxy::smtp
