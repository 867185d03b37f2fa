// san_names — see san_names.hpp.
#include "tls/san_names.hpp"

#include "matching/idn.hpp"
#include "tls/public_suffix.hpp"
#include "tls/subject_name.hpp"

#include <algorithm>
#include <cctype>

namespace dsproxy::tls {

std::optional<std::string> normalize_san_name(std::string_view input, std::string& error) {
    const std::size_t chars = utf8_length(input);
    if (chars > max_san_name_chars) {
        error = "DNS name of " + std::to_string(chars) + " characters; a DNS name has at most 255";
        return std::nullopt;
    }
    std::string_view rest = input;
    std::string prefix;
    if (rest.substr(0, 2) == "*.") {
        prefix = "*.";
        rest.remove_prefix(2);
    }
    if (rest.find('*') != std::string_view::npos) {
        // Said of the whole name: the remainder after a first "*." is not what was written.
        error = "'" + std::string(input) + "' cannot be a DNS name in a certificate: only a whole '*' first label "
                "may be a wildcard (as in *.contoso.com), and only one";
        return std::nullopt;
    }
    std::string why;
    const auto parsed = matching::reference_name::parse(rest, &why);
    if (!parsed) {
        error = "'" + std::string(input) + "' cannot be a DNS name in a certificate: " + why +
                "; only a whole '*' first label may be a wildcard";
        return std::nullopt;
    }
    if (is_public_suffix(parsed->text())) {
        error = prefix.empty()
                    ? "'" + std::string(input) + "' is a public suffix (publicsuffix.org): names are registered "
                      "under it, it is no host of yours; name the host (e.g. mail." + parsed->text() + ")"
                    : "'" + std::string(input) + "' would cover every name registered under the public suffix " +
                          parsed->text() + " (publicsuffix.org); no CA issues it and clients refuse it: a "
                          "wildcard must be under a domain of yours (e.g. *.contoso." + parsed->text() + ")";
        return std::nullopt;
    }
    return prefix + parsed->text();
}

void add_unique_name(std::vector<std::string>& names, std::string name) {
    auto lower = [](std::string s) {
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    const std::string key = lower(name);
    if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return lower(n) == key; }))
        names.push_back(std::move(name));
}

}  // namespace dsproxy::tls
