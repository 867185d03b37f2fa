// message_model — a plain, slow, independent reading of DATA and of a DATA
// stream, to check data_reader and dot_stuffer against (unit tests and
// fuzz/fuzz_data_reader.cpp). Written from RFC 5321 §4.5.2, not from the code
// it checks: whole strings, no state carried between calls.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::smtp::model {

// Every bare CR, bare LF and CRLF as CRLF ("\r\r\n" is two line ends).
inline std::string normalise(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
            out += "\r\n";
            ++i;
        } else if (s[i] == '\r' || s[i] == '\n') {
            out += "\r\n";
        } else {
            out += s[i];
        }
    }
    return out;
}

struct data_message {
    std::size_t end;      // offset just past the final ".\r\n"
    std::string content;  // the lines, stuffing dots removed, CRLF-ended
};

// DATA content as a strict receiver reads it: only CRLF "." CRLF ends it
// (the first line starts right after the 354), a "." opening a CRLF line is
// removed. nullopt when `wire` holds no end of data.
inline std::optional<data_message> read_data(std::string_view wire) {
    std::string content;
    std::size_t at = 0;
    while (true) {
        const std::size_t eol = wire.find("\r\n", at);
        if (eol == std::string_view::npos) return std::nullopt;
        std::string_view line = wire.substr(at, eol - at);
        if (line == ".") return data_message{eol + 2, content};
        if (!line.empty() && line[0] == '.') line.remove_prefix(1);
        content += line;
        content += "\r\n";
        at = eol + 2;
    }
}

// Octets of the longest line of `s`, any of CRLF, LF and CR ending a line.
inline std::size_t longest_line(std::string_view s) {
    const std::string n = normalise(s);
    std::size_t longest = 0;
    for (std::size_t at = 0; at < n.size();) {
        const std::size_t eol = std::min(n.find("\r\n", at), n.size());
        longest = std::max(longest, eol - at);
        at = eol + 2;
    }
    return longest;
}

// True when every CR in `s` is followed by LF and every LF follows a CR: all
// readers, strict or lax, then see the same lines.
inline bool only_crlf(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
    }
    return true;
}

// A DATA stream that a next hop reads as exactly one message, ending at the
// very end of `stream`, whatever line ends it accepts: only CRLF, and a lone
// "." on the last line only. Returns that message's content.
inline std::optional<std::string> read_one_message(std::string_view stream) {
    if (!only_crlf(stream)) return std::nullopt;
    const auto m = read_data(stream);
    if (!m || m->end != stream.size()) return std::nullopt;
    return m->content;
}

}  // namespace dsproxy::smtp::model
