// value — how a value from a client or a peer is written into a text log line
// (docs/design.md §8): the one escaping function of the text log format.
//
// Owns: the rule that keeps a text log line one line of exactly the fields
// dsproxy wrote (CWE-117, log forging and field injection). Every log call
// that carries bytes a client or a peer chose — EHLO name, addresses, SNI,
// certificate names, reply texts, reasons that quote any of them — writes
// them as `key=` + value(bytes), so the next field cannot forget it.
// Must not: do I/O, or depend on the log sink (text, JSON, syslog, journald
// all carry the same message text).
//
// The format is the key=value ("logfmt") convention: a value made only of
// printable ASCII other than space, `"`, `=` and `\` is written as it is
// (`from=<a@b.example>`); any other value, and the empty one, is written in
// double quotes, with `"` as \", `\` as \\ and every byte outside printable
// ASCII (control bytes, DEL, bytes of UTF-8) as \xNN. A value longer than
// `max_length` bytes is cut there and marked with `...` inside the quotes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dsproxy::log {

// The bytes a log line may carry for `bytes` after a `key=`, see above.
std::string value(std::string_view bytes, std::size_t max_length = 256);

}  // namespace dsproxy::log
