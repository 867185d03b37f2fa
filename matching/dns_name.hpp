// dns_name — syntactic checks and normalisation of DNS names (docs/design.md §5).
//
// Owns: the LDH rules that decide whether a presented certificate name can
// take part in matching at all, and the canonical form names are compared in.
// Must not: do I/O, convert IDNs (see idn.hpp), or decide a match.
//
// Threats: certificate names are attacker-controlled bytes. Embedded NULs
// (CVE-2009-2408), non-ASCII look-alikes and over-long names must be refused
// here, before any comparison, so that no later code sees them.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

namespace dsproxy::matching {

// RFC 1035 §2.3.4: 255 octets on the wire = 253 characters in text form
// without the trailing dot; 63 octets per label.
inline constexpr std::size_t max_name_length = 253;
inline constexpr std::size_t max_label_length = 63;

// Why a presented name was left out of matching.
enum class ignore_reason {
    embedded_nul,   // a NUL byte anywhere in the name
    non_ascii,      // a byte >= 0x80 (raw UTF-8 U-labels, look-alikes)
    too_long,       // over 253 octets after one trailing dot is removed
    invalid_ldh,    // empty label, bad character, bad hyphen, label > 63, misplaced '*'
    over_cap,       // beyond the per-certificate limit of considered names
};

std::string_view to_string(ignore_reason reason) noexcept;
std::ostream& operator<<(std::ostream& os, ignore_reason reason);

// A presented name in canonical form: ASCII lower case, no trailing dot.
// `wildcard` is true when the first label is exactly "*".
struct canonical_name {
    std::string text;
    bool wildcard = false;
};

// Checks one presented name and, when it is a valid LDH host name (with an
// optional whole "*" first label), returns its canonical form. On failure
// returns false and sets `why`.
bool canonicalize_presented(std::string_view raw, canonical_name& out, ignore_reason& why);

// True when `name` (already lower case, no trailing dot) is a valid LDH host
// name without any wildcard label.
bool is_ldh_host(std::string_view name) noexcept;

}  // namespace dsproxy::matching
