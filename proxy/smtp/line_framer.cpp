// line_framer — see line_framer.hpp.
#include "proxy/smtp/line_framer.hpp"

namespace dsproxy::smtp {

frame line_framer::next(std::string_view input) noexcept {
    frame f;
    if (discarding_) {
        const auto lf = input.find('\n');
        if (lf == std::string_view::npos) {
            f.consumed = input.size();  // throw it away, keep discarding
            return f;
        }
        discarding_ = false;
        f.status = frame_status::too_long;
        f.consumed = lf + 1;
        return f;
    }
    // The LF of a maximal line sits at index max_line_ - 1.
    const std::string_view window = input.substr(0, max_line_);
    const auto lf = window.find('\n');
    if (lf == std::string_view::npos) {
        if (input.size() >= max_line_) {
            discarding_ = true;
            const auto rest = next(input);  // the LF may already be in the input
            if (rest.status == frame_status::too_long) return rest;
            f.consumed = input.size();
        }
        return f;
    }
    f.consumed = lf + 1;
    if (lf > 0 && input[lf - 1] == '\r') {
        f.status = frame_status::line;
        f.text = input.substr(0, lf - 1);
    } else if (lf + 2 > max_line_) {
        // The limit counts a CRLF: a bare-LF line one octet short of it is
        // over it once written with CRLF (found by fuzz_reply_parser: an
        // upstream reply that parsed did not parse again as we relay it).
        f.status = frame_status::too_long;
    } else {
        f.status = frame_status::bare_lf;
        f.text = input.substr(0, lf);
    }
    return f;
}

}  // namespace dsproxy::smtp
