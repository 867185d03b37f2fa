// reply_parser — see reply_parser.hpp.
#include "proxy/smtp/reply_parser.hpp"

namespace dsproxy::smtp {

std::string_view to_string(reply_error e) noexcept {
    switch (e) {
    case reply_error::none: return "no error";
    case reply_error::malformed: return "malformed reply line";
    case reply_error::inconsistent_code: return "reply lines with different codes";
    case reply_error::line_too_long: return "reply line too long";
    case reply_error::too_many_lines: return "too many reply lines";
    }
    return "unknown";
}

reply_parse reply_parser::next(std::string_view input) {
    reply_parse out;
    while (true) {
        // Lenient toward an LF-only upstream: replies cannot smuggle data.
        const frame f = framer_.next(input.substr(out.consumed));
        out.consumed += f.consumed;
        if (f.status == frame_status::incomplete) {
            if (framer_.discarding()) {
                out.state = reply_parse::status::failed;
                out.error = reply_error::line_too_long;
                framer_.reset();
                partial_ = {};
            }
            return out;
        }
        auto fail = [&](reply_error e) {
            out.state = reply_parse::status::failed;
            out.error = e;
            partial_ = {};
            return out;
        };
        if (f.status == frame_status::too_long) return fail(reply_error::line_too_long);
        const std::string_view line = f.text;
        if (line.size() < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' || line[2] < '0' ||
            line[2] > '9')
            return fail(reply_error::malformed);
        if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return fail(reply_error::malformed);
        for (const char c : line)
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return fail(reply_error::malformed);
        const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (!partial_.lines.empty() && partial_.code != code) return fail(reply_error::inconsistent_code);
        if (partial_.lines.size() >= lines_max_) return fail(reply_error::too_many_lines);
        partial_.code = code;
        partial_.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
        if (partial_.lines.size() == 1) partial_.status = parse_enhanced_code(partial_.lines.front());
        if (line.size() == 3 || line[3] == ' ') {
            out.state = reply_parse::status::complete;
            out.value = std::move(partial_);
            partial_ = {};
            return out;
        }
    }
}

}  // namespace dsproxy::smtp
