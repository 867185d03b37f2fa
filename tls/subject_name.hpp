// subject_name — the `--subject` text of `dsproxy cert` (docs/design.md §4.2), parsed
// into relative distinguished names and checked against the seed's table.
//
// Owns: parsing "C=US, O=Contoso Corp, CN=mail1.contoso.com" — comma
// separated, order kept as given, values optionally in double quotes (a
// comma inside quotes, "" or \" for a quote, \, for a comma), UTF-8 — and the
// validation rules:
//   DC   255 characters in total over all DC values, ASCII; with C: warning
//   C    2 letters, an ISO 3166-1 alpha-2 code
//   ST   (S accepted) 128     L 128     O 64     OU 64
//   CN   64 — a longer FQDN goes in the SAN; several CNs: warning;
//        a FQDN-looking CN with non-ASCII characters: warning (the seed's ï)
// Sizes count characters (Unicode code points), as the X.520 upper bounds do.
// Must not: touch OpenSSL or do I/O — certificate_builder turns the result
// into an X509_NAME.
#pragma once

#include <cstddef>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::tls {

// RFC 5280 ub-common-name: a CN holds at most 64 characters.
inline constexpr std::size_t max_common_name_chars = 64;

struct rdn {
    std::string type;   // canonical abbreviation: C, ST, L, O, OU, CN, DC
    std::string value;  // UTF-8; C upper-cased
    friend bool operator==(const rdn&, const rdn&) = default;
};

using subject_rdns = std::vector<rdn>;

// Parses `text`. On a syntax error returns nullopt and a sentence in `error`.
std::optional<subject_rdns> parse_subject(std::string_view text, std::string& error);

struct subject_findings {
    std::vector<std::string> errors;    // refuse the request
    std::vector<std::string> warnings;  // print, but go on
    bool ok() const noexcept { return errors.empty(); }
};

subject_findings validate_subject(const subject_rdns& rdns);

// The subject as the one-line text people write ("C=US, O=Contoso Corp, ...").
std::string format_subject(const subject_rdns& rdns);

// Number of Unicode code points in valid UTF-8 `s` (bytes otherwise).
std::size_t utf8_length(std::string_view s) noexcept;
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace dsproxy::tls
