// command_parser — see command_parser.hpp.
#include "proxy/smtp/command_parser.hpp"

#include <array>

namespace dsproxy::smtp {

namespace {

constexpr std::array verbs{
    verb_row{"EHLO", verb::ehlo, arguments::required},
    verb_row{"HELO", verb::helo, arguments::required},
    verb_row{"MAIL", verb::mail, arguments::required},
    verb_row{"RCPT", verb::rcpt, arguments::required},
    verb_row{"DATA", verb::data, arguments::none},
    verb_row{"BDAT", verb::bdat, arguments::required},
    verb_row{"RSET", verb::rset, arguments::none},
    verb_row{"NOOP", verb::noop, arguments::optional},
    verb_row{"QUIT", verb::quit, arguments::none},
    verb_row{"VRFY", verb::vrfy, arguments::required},
    verb_row{"EXPN", verb::expn, arguments::required},
    verb_row{"HELP", verb::help, arguments::optional},
    verb_row{"STARTTLS", verb::starttls, arguments::none},
    verb_row{"AUTH", verb::auth, arguments::optional},
    // Someone speaking HTTP to the SMTP port (a browser, a proxy probe, a
    // cross-protocol attack): never answer as if it were mail.
    verb_row{"GET", verb::http, arguments::optional},
    verb_row{"HEAD", verb::http, arguments::optional},
    verb_row{"POST", verb::http, arguments::optional},
    verb_row{"PUT", verb::http, arguments::optional},
    verb_row{"DELETE", verb::http, arguments::optional},
    verb_row{"OPTIONS", verb::http, arguments::optional},
    verb_row{"PATCH", verb::http, arguments::optional},
    verb_row{"TRACE", verb::http, arguments::optional},
    verb_row{"CONNECT", verb::http, arguments::optional},
};

char upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (upper(a[i]) != upper(b[i])) return false;
    return true;
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

}  // namespace

std::span<const verb_row> verb_table() noexcept { return verbs; }

command parse_command(std::string_view line) noexcept {
    command cmd;
    for (const char c : line) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            cmd.error = command_error::bad_characters;
            return cmd;
        }
    }
    std::size_t end = 0;
    while (end < line.size() && !is_space(line[end])) ++end;
    cmd.name = line.substr(0, end);
    std::size_t start = end;
    while (start < line.size() && is_space(line[start])) ++start;
    std::size_t stop = line.size();
    while (stop > start && is_space(line[stop - 1])) --stop;
    cmd.args = line.substr(start, stop - start);

    const verb_row* row = nullptr;
    for (const auto& r : verbs)
        if (iequals(r.name, cmd.name)) row = &r;
    if (row == nullptr) return cmd;  // verb::unknown
    cmd.id = row->id;
    if (row->args == arguments::none && !cmd.args.empty()) cmd.error = command_error::unexpected_argument;
    if (row->args == arguments::required && cmd.args.empty()) cmd.error = command_error::missing_argument;
    return cmd;
}

std::string_view to_string(verb v) noexcept {
    for (const auto& r : verbs)
        if (r.id == v) return r.name;
    return "unknown";
}

}  // namespace dsproxy::smtp
