// message_content — see message_content.hpp. Both classes take the bytes
// inside a line as one span (memchr finds its end) and step byte by byte only
// around line ends.
#include "proxy/smtp/message_content.hpp"

#include <algorithm>
#include <cstring>

namespace dsproxy::smtp {

namespace {

// Index of the first CR or LF at or after `from`, or bytes.size(). Two memchr
// scans (vectorised in libc) instead of a test per byte: in a well-formed
// line the only CR is the one just before the LF.
std::size_t next_line_break(std::string_view bytes, std::size_t from) noexcept {
    const char* base = bytes.data();
    const void* lf = std::memchr(base + from, '\n', bytes.size() - from);
    const std::size_t stop = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - base) : bytes.size();
    const void* cr = std::memchr(base + from, '\r', stop - from);
    return cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - base) : stop;
}

}  // namespace

void newline_scanner::feed(std::string_view bytes) noexcept {
    for (std::size_t i = 0; i < bytes.size();) {
        const char c = bytes[i];
        if (cr_pending_) {  // the CR ended a line; it was bare unless an LF follows
            cr_pending_ = false;
            line_end();
            if (c == '\n') {
                ++i;
                continue;
            }
            bare_cr_ = true;
        }
        if (c == '\r') {
            cr_pending_ = true;
            ++i;
        } else if (c == '\n') {
            bare_lf_ = true;
            line_end();
            ++i;
        } else {
            const std::size_t stop = next_line_break(bytes, i);
            line_ += stop - i;
            longest_ = std::max(longest_, line_);
            i = stop;
        }
    }
}

void newline_scanner::finish() noexcept {
    if (cr_pending_) bare_cr_ = true;
    cr_pending_ = false;
    line_end();
}

void dot_stuffer::feed(std::string_view content, std::string& out) {
    for (std::size_t i = 0; i < content.size();) {
        const char c = content[i];
        if (cr_pending_) {  // CRLF, or a bare CR: either way one CRLF
            cr_pending_ = false;
            out += "\r\n";
            line_start_ = true;
            if (c == '\n') {
                ++i;
                continue;
            }
        }
        if (c == '\r') {
            cr_pending_ = true;
            ++i;
        } else if (c == '\n') {  // a bare LF
            out += "\r\n";
            line_start_ = true;
            ++i;
        } else {
            if (line_start_ && c == '.') out += '.';  // RFC 5321 §4.5.2
            line_start_ = false;
            const std::size_t stop = next_line_break(content, i);
            out.append(content.data() + i, stop - i);
            i = stop;
        }
    }
}

void dot_stuffer::finish(std::string& out) {
    if (cr_pending_) {
        out += "\r\n";
        cr_pending_ = false;
        line_start_ = true;
    }
    if (!line_start_) out += "\r\n";
    out += ".\r\n";
    line_start_ = true;
}

}  // namespace dsproxy::smtp
