// reply — an SMTP reply as a value: code, optional enhanced status code, text lines.
//
// Owns: building replies and rendering them to the wire (RFC 5321 §4.2,
// enhanced codes RFC 3463 / RFC 2034). Must not: do I/O or parse (see
// reply_parser.hpp for the upstream direction).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::smtp {

// RFC 3463 class.subject.detail, e.g. 5.7.1.
struct enhanced_code {
    int klass = 0;
    int subject = 0;
    int detail = 0;
    std::string to_string() const;
    friend bool operator==(const enhanced_code&, const enhanced_code&) = default;
};

struct reply {
    int code = 0;                         // 200..599
    std::optional<enhanced_code> status;  // from the first line, when present
    std::vector<std::string> lines;       // text after "NNN-" / "NNN ", enhanced code included

    bool positive() const noexcept { return code >= 200 && code < 400; }
    bool transient() const noexcept { return code >= 400 && code < 500; }
    bool permanent() const noexcept { return code >= 500; }

    // "250-a\r\n250 b\r\n"; an empty reply renders as "NNN\r\n". A line
    // never carries a line break or another control byte (each becomes
    // '?'): text that reached a reply cannot end its line early and forge
    // the next (reply injection).
    std::string to_wire() const;
    // The first line of to_wire() without its CRLF ("NNN-text" when more follow).
    std::string first_line() const;
    // Every line of to_wire() without its CRLF, joined by `separator`
    // ("250-mx.example | 250 2.0.0 queued as 4F1"): a multi-line reply on
    // one line, for the log (a next hop's queue id is often on its last line).
    std::string joined(std::string_view separator) const;
};

// One-line reply whose text starts with the enhanced code: make_reply(550,
// "5.7.1 Relay access denied"). The enhanced code is parsed from the text.
reply make_reply(int code, std::string_view text);

// Text a peer chose, made fit for a reply line: printable ASCII only (any
// other byte becomes '?'), at most `max` bytes (a cut ends in "..."). For
// summaries that quote a next hop's certificate names (issue 16 item 3).
std::string reply_safe(std::string_view text, std::size_t max);

// Parses "5.7.1" at the start of `text` (followed by a space or the end).
std::optional<enhanced_code> parse_enhanced_code(std::string_view text);

}  // namespace dsproxy::smtp
