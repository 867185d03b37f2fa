// data_reader — message bytes after DATA's 354, up to the CRLF.CRLF that ends
// them, relayed as DATA wire form that has that one end and no other.
//
// Owns: end-of-data detection across arbitrary read splits, the SMTP
// smuggling defence, the text line limit and size counting, while streaming:
// it holds at most two bytes between calls (a line-start "." and a CR after
// it), never the message.
// Must not: do I/O. The output never includes the final ".\r\n": the
// upstream leg writes it (client_session::end_of_data).
//
// How (one path for both policies): the wire is read as RFC 5321 §4.5.2 says
// — only CRLF "." CRLF ends the data, and a "." opening a CRLF-delimited line
// is a stuffing dot and is dropped — which gives the content; newline_scanner
// judges the content (bare LF / bare CR, the longest line) and dot_stuffer
// writes it out again: line ends as CRLF, then the stuffing of those lines
// (message_content.hpp). For a well-formed message (CRLF only, stuffed) the
// output is the input byte for byte (docs/design.md §2).
//
// Threats: SMTP smuggling (CVE-2023-51764/5/6). A bare LF or bare CR is, by
// policy, either refused (`reject`: the session answers 554 5.6.0 after the
// real end, and nothing of the content is relayed once one is seen) or
// written as CRLF (`normalize`). Either way the next hop can never see an end
// of data, or a different one, that we did not see: a "." that a bare line
// end leaves alone on a line is content, and leaves here stuffed.
#pragma once

#include "proxy/smtp/limits.hpp"
#include "proxy/smtp/message_content.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace dsproxy::smtp {

struct data_findings {
    bool bare_lf = false;
    bool bare_cr = false;
    bool line_too_long = false;  // over smtp_limits::text_line_max: 552 5.6.0
    bool too_big = false;        // over smtp_limits::message_size_max: 552 5.3.4
};

class data_reader {
public:
    data_reader(const smtp_limits& limits, bare_newline_policy policy) noexcept
        : line_max_(limits.text_line_max), size_max_(limits.message_size_max), policy_(policy) {}

    struct result {
        std::size_t consumed = 0;  // bytes of `in` used (up to and including the final LF)
        bool end = false;          // CRLF.CRLF seen; the rest of `in` is commands
    };

    // Appends relayable bytes to `out`, unless the message is already refused.
    result feed(std::string_view in, std::string& out);

    data_findings findings() const noexcept;
    // A finding that makes the message refused (bare newlines only under `reject`).
    bool refused() const noexcept;
    // Octets of the data as it came, the final ".\r\n" not counted.
    std::uint64_t size() const noexcept { return size_; }

private:
    // Where the wire is, between two bytes.
    enum class wire {
        line_start,  // after a CRLF (or at the start)
        dot,         // a "." at a line start: the end, or a stuffing dot
        dot_cr,      // ".\r" at a line start
        text,        // inside a line
        text_cr,     // inside a line, just after a CR
    };
    void content(std::string_view bytes, std::string& out);

    std::size_t line_max_;
    std::uint64_t size_max_;
    bare_newline_policy policy_;
    std::uint64_t size_ = 0;
    wire wire_ = wire::line_start;
    newline_scanner scanner_;
    dot_stuffer stuffer_;
};

}  // namespace dsproxy::smtp
