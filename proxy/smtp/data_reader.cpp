// data_reader — see data_reader.hpp. A small state machine, one byte at a
// time around line ends (the states are the flags of the class, in the order
// a line ending can be recognised); the bytes inside a line are taken in one
// step.
#include "proxy/smtp/data_reader.hpp"

#include <cstring>

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

namespace {

// Index of the first CR or LF at or after `from`, or in.size(). Two memchr
// scans (vectorised in libc) instead of a test per byte: in a well-formed
// line the only CR is the one just before the LF.
std::size_t next_line_break(std::string_view in, std::size_t from) noexcept {
    const char* base = in.data();
    const std::size_t n = in.size() - from;
    const void* lf = std::memchr(base + from, '\n', n);
    const std::size_t stop = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - base) : in.size();
    const void* cr = std::memchr(base + from, '\r', stop - from);
    return cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - base) : stop;
}

}  // namespace

data_reader::result data_reader::feed(std::string_view in, std::string& out) {
    result r;
    if (!refused()) out.reserve(out.size() + in.size());
    for (std::size_t i = 0; i < in.size();) {
        if (!dot_cr_pending_ && !dot_pending_ && !cr_pending_ && !exposed_start_) {
            // Whole clean lines (text, then the only CR just before the LF)
            // are relayed as one span: what the byte machine would do, without
            // a step per byte or an append per line. Anything else — a dot
            // at a line start, a bare CR or LF, a partial line — goes on below.
            const std::size_t run = i;
            while (i < in.size() && !(line_start_ && in[i] == '.')) {
                const char* base = in.data();
                const void* lf = std::memchr(base + i, '\n', in.size() - i);
                if (!lf) break;
                const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(lf) - base);
                if (at == i || base[at - 1] != '\r' || std::memchr(base + i, '\r', at - 1 - i)) break;
                line_length_ += at - 1 - i;
                if (line_length_ + 2 > line_max_) findings_.line_too_long = true;
                count(at + 1 - i);
                line_end();
                line_start_ = true;
                i = at + 1;
            }
            if (i > run) {
                emit(out, in.substr(run, i - run));
                r.consumed = i;
                continue;
            }
        }
        if (!dot_cr_pending_ && !dot_pending_ && !cr_pending_ && !line_start_ && !exposed_start_) {
            // Inside a line: every byte up to the next CR/LF is ordinary
            // (counted, measured, relayed); the same as ordinary() byte by byte.
            const std::size_t stop = next_line_break(in, i);
            if (stop > i) {
                const std::size_t n = stop - i;
                count(n);
                line_length_ += n;
                if (line_length_ + 2 > line_max_) findings_.line_too_long = true;
                emit(out, in.substr(i, n));
                i = stop;
                r.consumed = i;
                continue;
            }
        }
        const char c = in[i++];
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
