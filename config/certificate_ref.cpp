// certificate_ref — see certificate_ref.hpp.
#include "config/certificate_ref.hpp"

#include "matching/idn.hpp"

#include <cctype>

namespace dsproxy::config {

namespace {

constexpr std::size_t sha1_hex_digits = 40;
constexpr std::size_t sha256_hex_digits = 64;

// Strips separators and upper-cases; nullopt when anything else than hex
// digits, ':' or ' ' is present.
std::optional<std::string> hex_digits(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == ':' || c == ' ') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

}  // namespace

std::optional<certificate_ref> parse_thumbprint(std::string_view text, std::string* error) {
    const auto hex = hex_digits(text);
    if (hex && hex->size() == sha1_hex_digits) return certificate_ref{certificate_ref::kind::sha1, *hex};
    if (hex && hex->size() == sha256_hex_digits) return certificate_ref{certificate_ref::kind::sha256, *hex};
    if (error)
        *error = "expected a certificate thumbprint: 40 hex digits (SHA-1) or 64 (SHA-256), got `" +
                 std::string(text) + "`";
    return std::nullopt;
}

std::optional<certificate_ref> parse_certificate_ref(std::string_view text, std::string* error) {
    if (auto thumbprint = parse_thumbprint(text)) return thumbprint;
    std::string why;
    if (const auto name = matching::reference_name::parse(text, &why))
        return certificate_ref{certificate_ref::kind::name, name->text()};
    if (error)
        *error = "expected a certificate thumbprint (40 or 64 hex digits) or a host name, got `" +
                 std::string(text) + "`";
    return std::nullopt;
}

std::string to_string(const certificate_ref& ref) { return ref.value; }

}  // namespace dsproxy::config
