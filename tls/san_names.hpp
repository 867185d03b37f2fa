// san_names — DNS names for a certificate's subject alternative name
// (docs/design.md §4.2): validated and converted to A-labels before they are signed.
//
// Owns: the rule "at most 255 characters, letters, digits and hyphens in
// dot-separated labels, an optional `*.` first", and IDNA2008 conversion of
// Unicode names — both through matching::reference_name, so that a name dsproxy
// writes is exactly a name dsproxy would match. A public suffix (`co.uk`), or
// a wildcard over one (`*.com`), is refused (tls/public_suffix).
// Must not: do I/O or touch OpenSSL.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::tls {

inline constexpr std::size_t max_san_name_chars = 255;

// Returns the A-label form ("*.xn--bcher-kva.de"), or nullopt and a sentence.
std::optional<std::string> normalize_san_name(std::string_view input, std::string& error);

// Appends `name` to `names` unless an equal name (ASCII case-insensitive) is there.
void add_unique_name(std::vector<std::string>& names, std::string name);

}  // namespace dsproxy::tls
