// value_kinds — see value_kinds.hpp.
#include "config/value_kinds.hpp"

#include "matching/idn.hpp"

#include <array>
#include <utility>

namespace dsproxy::config {

std::optional<bool> parse_bool(std::string_view text, std::string* error) {
    // YAML 1.1 spellings that yaml-cpp users expect; nothing fuzzier.
    static constexpr std::array<std::pair<std::string_view, bool>, 6> words{
        {{"true", true}, {"yes", true}, {"on", true}, {"false", false}, {"no", false}, {"off", false}}};
    for (const auto& [word, value] : words)
        if (word == text) return value;
    if (error) *error = "expected `true` or `false`, got `" + std::string(text) + "`";
    return std::nullopt;
}

std::optional<std::string> parse_domain_name(std::string_view text, std::string* error) {
    std::string why;
    if (const auto name = matching::reference_name::parse(text, &why)) return name->text();
    if (error) *error = "expected a domain name, got `" + std::string(text) + "`: " + why;
    return std::nullopt;
}

std::optional<std::string> parse_text(std::string_view text, std::string* error) {
    if (!text.empty() && text.find_first_of("\r\n") == std::string_view::npos) return std::string(text);
    if (error) *error = "expected a non-empty single line of text";
    return std::nullopt;
}

std::optional<host_port> parse_dns_server(std::string_view text, std::string* error) {
    auto server = parse_host_port(text, {true, std::uint16_t{53}}, error);
    if (server && !server->ip) {
        if (error)
            *error = "DNS server `" + std::string(text) +
                     "` is not an IP address; write one such as `127.0.0.1`, `127.0.0.1:5353` or `[::1]`";
        return std::nullopt;
    }
    return server;
}

std::optional<std::string> parse_account_name(std::string_view text, std::string* error) {
    constexpr std::size_t max_length = 32;  // useradd's limit on Linux
    const auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    };
    bool ok = !text.empty() && text.size() <= max_length && text.front() != '-';
    for (const char c : text) ok = ok && allowed(c);
    if (ok) return std::string(text);
    if (error)
        *error = "expected a user or group name (letters, digits, `_`, `-`, `.`; at most 32), got `" +
                 std::string(text) + "`";
    return std::nullopt;
}

std::optional<std::uint64_t> parse_io_threads(std::string_view text, std::string* error) {
    if (text == "auto") return 0;
    auto n = parse_count(text, max_io_threads, error);
    if (n && *n == 0) {
        if (error) *error = "must be at least 1, or `auto` for one thread per core";
        return std::nullopt;
    }
    return n;
}

}  // namespace dsproxy::config
