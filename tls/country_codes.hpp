// country_codes — ISO 3166-1 alpha-2 country codes, for the subject's C RDN
// (docs/design.md §4.2, the seed's "The Country/Region codes are the ISO 3166-1 codes").
//
// Owns: the list of the 249 officially assigned codes. Must not: do I/O.
// Reserved and user-assigned codes (UK, EU, XK, ...) are not in the list: a CA
// will refuse them, so dsproxy refuses them first.
#pragma once

#include <string_view>

namespace dsproxy::tls {

// True when `code` (upper case) is an officially assigned alpha-2 code.
bool is_iso3166_alpha2(std::string_view code) noexcept;

}  // namespace dsproxy::tls
