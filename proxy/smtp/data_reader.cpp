// data_reader — see data_reader.hpp. A small state machine on the wire, one
// byte at a time at a line start, a whole span up to the next LF otherwise.
#include "proxy/smtp/data_reader.hpp"

#include <cstring>

namespace dsproxy::smtp {

data_findings data_reader::findings() const noexcept {
    // The stuffing dot is not counted: the scanner sees the content.
    return {scanner_.bare_lf(), scanner_.bare_cr(), scanner_.line_over(line_max_), size_ > size_max_};
}

bool data_reader::refused() const noexcept {
    const auto f = findings();
    return f.too_big || f.line_too_long ||
           (policy_ == bare_newline_policy::reject && (f.bare_lf || f.bare_cr));
}

void data_reader::content(std::string_view bytes, std::string& out) {
    size_ += bytes.size();
    scanner_.feed(bytes);
    if (!refused()) stuffer_.feed(bytes, out);
}

data_reader::result data_reader::feed(std::string_view in, std::string& out) {
    if (!refused()) out.reserve(out.size() + in.size());
    std::size_t i = 0;
    while (i < in.size()) {
        const char c = in[i];
        switch (wire_) {
        case wire::line_start:
            if (c == '.') {
                wire_ = wire::dot;
                ++i;
            } else {
                wire_ = wire::text;
            }
            break;
        case wire::dot:
            if (c == '\r') {
                wire_ = wire::dot_cr;
                ++i;
            } else {
                ++size_;  // the stuffing dot: counted, not content
                wire_ = wire::text;
            }
            break;
        case wire::dot_cr:
            if (c == '\n') return {i + 1, true};
            ++size_;
            content("\r", out);  // a bare CR: the first content byte of this line
            wire_ = wire::text_cr;
            break;
        case wire::text:
        case wire::text_cr: {
            // Up to and including the next LF; a line start follows it only
            // when it ends a CRLF.
            const void* lf = std::memchr(in.data() + i, '\n', in.size() - i);
            const std::size_t stop = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - in.data()) + 1
                                        : in.size();
            const char before_last = stop - 1 > i ? in[stop - 2] : (wire_ == wire::text_cr ? '\r' : '\0');
            content(in.substr(i, stop - i), out);
            if (lf) wire_ = before_last == '\r' ? wire::line_start : wire::text;
            else wire_ = in[stop - 1] == '\r' ? wire::text_cr : wire::text;
            i = stop;
            break;
        }
        }
    }
    return {in.size(), false};
}

}  // namespace dsproxy::smtp
