// bdat_content — message bytes that arrive in BDAT chunks (RFC 3030).
//
// Owns: (1) newline_scanner, which finds bare LF / bare CR in chunk bytes
// across chunk and read boundaries, so BDAT gets the same smuggling policy as
// DATA; (2) dot_stuffer, which turns raw message bytes into DATA wire form for
// an upstream without CHUNKING: "." at a line start doubled, bare LF / bare CR
// written as CRLF (a DATA stream must have one reading only), and a final
// CRLF "." CRLF. Must not: do I/O, or hold more than one byte between calls.
#pragma once

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

private:
    bool cr_pending_ = false;
    bool bare_lf_ = false;
    bool bare_cr_ = false;
};

class dot_stuffer {
public:
    // Appends the DATA wire form of `bytes` to `out`.
    void feed(std::string_view bytes, std::string& out);
    // Appends what ends the DATA stream: a CRLF when the content did not end
    // with one, then ".\r\n".
    void finish(std::string& out);

private:
    bool line_start_ = true;
    bool cr_pending_ = false;
};

}  // namespace dsproxy::smtp
