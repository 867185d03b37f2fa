// data_reader — message bytes after DATA's 354, up to the CRLF.CRLF that ends them.
//
// Owns: end-of-data detection across arbitrary read splits, the SMTP
// smuggling defence, the text line limit and size counting, while streaming:
// it holds at most three bytes between calls, never the message.
// Must not: do I/O, or un-stuff dots — the output is the dot-stuffed wire
// form, passed on byte for byte (SPEC §2), without the final ".\r\n".
//
// Threats: SMTP smuggling (CVE-2023-51764/5/6). Only CRLF "." CRLF ends the
// data. A bare LF or bare CR is, by policy, either recorded (the session then
// answers 554 5.6.0 after the real end) or rewritten to CRLF; a line exposed
// by that rewrite that starts with "." gets a second "." so that the next hop
// can never see an end of data, or a different one, that we did not see.
#pragma once

#include "proxy/smtp/limits.hpp"

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

    const data_findings& findings() const noexcept { return findings_; }
    // A finding that makes the message refused (bare newlines only under `reject`).
    bool refused() const noexcept;
    std::uint64_t size() const noexcept { return size_; }

private:
    void emit(std::string& out, std::string_view bytes);
    void bare_newline(std::string& out, bool is_lf);
    void line_end() noexcept { line_length_ = 0; }
    void count(std::uint64_t n) noexcept {
        size_ += n;
        if (size_ > size_max_) findings_.too_big = true;
    }
    void ordinary(std::string& out, char c);

    std::size_t line_max_;
    std::uint64_t size_max_;
    bare_newline_policy policy_;
    data_findings findings_;
    std::uint64_t size_ = 0;
    std::size_t line_length_ = 0;
    bool line_start_ = true;       // after a real CRLF (or at the start)
    bool exposed_start_ = false;   // after a bare newline rewritten to CRLF
    bool cr_pending_ = false;      // saw CR, waiting for LF
    bool dot_pending_ = false;     // saw "." at a line start
    bool dot_cr_pending_ = false;  // saw ".\r" at a line start
};

}  // namespace dsproxy::smtp
