// domain_table — see domain_table.hpp.
#include "config/domain_table.hpp"

#include "matching/idn.hpp"

namespace dsproxy::config {

std::optional<domain_key> parse_domain_key(std::string_view text, std::string* error) {
    if (text.find('*') != std::string_view::npos) {
        if (error) {
            *error = "wildcard domain key `" + std::string(text) + "` is not allowed";
            if (text.starts_with("*.") && text.size() > 2)
                *error += "; write `." + std::string(text.substr(2)) + "` for every subdomain of " +
                          std::string(text.substr(2));
        }
        return std::nullopt;
    }
    domain_key key;
    if (text.starts_with('.')) {
        key.subdomains = true;
        text.remove_prefix(1);
    }
    std::string why;
    const auto name = matching::reference_name::parse(text, &why);
    if (!name) {
        if (error) *error = "invalid domain key `" + std::string(key.subdomains ? "." : "") + std::string(text) +
                            "`: " + why;
        return std::nullopt;
    }
    key.name = name->text();
    return key;
}

std::string to_string(const domain_key& key) { return (key.subdomains ? "." : "") + key.name; }

}  // namespace dsproxy::config
