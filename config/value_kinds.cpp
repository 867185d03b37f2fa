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

}  // namespace dsproxy::config
