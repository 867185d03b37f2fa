// message_content — a message's content (the octets it is, before DATA's
// dot-stuffing), scanned for the smuggling policy and written as DATA.
//
// Owns: (1) newline_scanner, the one judge of what is a bare LF or a bare CR
// in content, across read and chunk boundaries, and of how long the longest
// line is: for DATA (data_reader scans what it un-stuffs) and for BDAT chunks
// (server_session), so both get the same policy; (2) dot_stuffer, the one
// place that writes DATA wire form: every line end (CRLF, bare LF, bare CR)
// as CRLF first, then "." doubled at the start of each line so made, and at
// finish() the final CRLF "." CRLF. data_reader relays DATA through it, and
// client_session converts BDAT to DATA with it for an upstream without
// CHUNKING.
// Must not: do I/O, or hold more than one byte between calls.
//
// Threat: SMTP smuggling (CVE-2023-51764/5/6). Because the wire form is made
// from the content in one step — lines first, then the stuffing of those
// lines — no line of it is a lone "." before the one finish() writes, so a
// next hop, however lax its reading of line ends, sees one end of data: ours.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dsproxy::smtp {

class newline_scanner {
public:
    void feed(std::string_view bytes) noexcept;
    // Call at the end of the message: a CR as the very last byte is bare.
    void finish() noexcept;
    bool bare_lf() const noexcept { return bare_lf_; }
    bool bare_cr() const noexcept { return bare_cr_; }
    // Octets of the longest line so far, its line end not counted (any of
    // CRLF, LF, CR ends a line here, as a lax next hop would read it).
    std::size_t longest_line() const noexcept { return longest_; }
    // RFC 5321 §4.5.3.1.6: a text line has at most `text_line_max` octets,
    // its CRLF included. The one rule for DATA and BDAT content alike.
    bool line_over(std::size_t text_line_max) const noexcept { return longest_ + 2 > text_line_max; }

private:
    void line_end() noexcept { line_ = 0; }

    bool cr_pending_ = false;
    bool bare_lf_ = false;
    bool bare_cr_ = false;
    std::size_t line_ = 0;
    std::size_t longest_ = 0;
};

class dot_stuffer {
public:
    // Appends the DATA wire form of `content` to `out`.
    void feed(std::string_view content, std::string& out);
    // Appends what ends the DATA stream: a CRLF when the content did not end
    // with a line end, then ".\r\n".
    void finish(std::string& out);

private:
    bool line_start_ = true;
    bool cr_pending_ = false;
};

}  // namespace dsproxy::smtp
