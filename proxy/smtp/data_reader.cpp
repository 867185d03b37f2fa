// data_reader — see data_reader.hpp. One byte at a time through a small
// state machine; the states are the flags of the class, in the order a line
// ending can be recognised.
#include "proxy/smtp/data_reader.hpp"

namespace dsproxy::smtp {

bool data_reader::refused() const noexcept {
    return findings_.too_big || findings_.line_too_long ||
           (policy_ == bare_newline_policy::reject && (findings_.bare_lf || findings_.bare_cr));
}

void data_reader::emit(std::string& out, std::string_view bytes) {
    if (!refused()) out += bytes;
}

void data_reader::bare_newline(std::string& out, bool is_lf) {
    (is_lf ? findings_.bare_lf : findings_.bare_cr) = true;
    if (policy_ == bare_newline_policy::normalize) {
        emit(out, "\r\n");
        exposed_start_ = true;
    }
    line_start_ = false;
    line_end();
}

void data_reader::ordinary(std::string& out, char c) {
    if (c == '\r') {
        cr_pending_ = true;
        return;
    }
    if (c == '\n') {
        bare_newline(out, true);
        return;
    }
    if (line_start_ && c == '.') {
        dot_pending_ = true;
        line_start_ = false;
        ++line_length_;
        return;
    }
    if (exposed_start_ && c == '.') emit(out, ".");  // stuff the line our rewrite created
    exposed_start_ = false;
    line_start_ = false;
    if (++line_length_ + 2 > line_max_) findings_.line_too_long = true;
    emit(out, std::string_view(&c, 1));
}

data_reader::result data_reader::feed(std::string_view in, std::string& out) {
    result r;
    for (const char c : in) {
        ++r.consumed;
        if (dot_cr_pending_) {
            dot_cr_pending_ = false;
            if (c == '\n') {
                r.end = true;
                return r;
            }
            count(2);
            emit(out, ".");
            exposed_start_ = false;
            bare_newline(out, false);  // the CR after the dot was bare
        } else if (dot_pending_) {
            dot_pending_ = false;
            if (c == '\r') {
                dot_cr_pending_ = true;
                continue;
            }
            count(1);
            emit(out, ".");
            exposed_start_ = false;
        } else if (cr_pending_) {
            cr_pending_ = false;
            if (c == '\n') {
                count(2);
                emit(out, "\r\n");
                line_start_ = true;
                exposed_start_ = false;
                line_end();
                continue;
            }
            count(1);
            bare_newline(out, false);
        }
        // CR and a line-start dot are counted once their meaning is known.
        if (c != '\r' && !(line_start_ && c == '.')) count(1);
        ordinary(out, c);
    }
    return r;
}

}  // namespace dsproxy::smtp
