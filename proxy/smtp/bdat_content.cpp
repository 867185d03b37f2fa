// bdat_content — see bdat_content.hpp.
#include "proxy/smtp/bdat_content.hpp"

namespace dsproxy::smtp {

void newline_scanner::feed(std::string_view bytes) noexcept {
    for (const char c : bytes) {
        if (cr_pending_ && c != '\n') bare_cr_ = true;
        if (!cr_pending_ && c == '\n') bare_lf_ = true;
        cr_pending_ = (c == '\r');
    }
}

void newline_scanner::finish() noexcept {
    if (cr_pending_) bare_cr_ = true;
    cr_pending_ = false;
}

void dot_stuffer::feed(std::string_view bytes, std::string& out) {
    for (const char c : bytes) {
        if (cr_pending_) {
            cr_pending_ = false;
            out += "\r\n";  // CRLF, or a bare CR written as one
            line_start_ = true;
            if (c == '\n') continue;
        }
        if (c == '\r') {
            cr_pending_ = true;
            continue;
        }
        if (c == '\n') {  // bare LF
            out += "\r\n";
            line_start_ = true;
            continue;
        }
        if (line_start_ && c == '.') out += '.';
        line_start_ = false;
        out += c;
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
