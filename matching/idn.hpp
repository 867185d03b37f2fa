// idn — reference names (the domain or host we expect) to canonical A-label form.
//
// Owns: turning what an administrator or an SMTP envelope gives us
// (`Contoso.COM.`, `bücher.de`, `faß.de`) into the one ASCII form that
// certificate names are compared against.
// Must not: touch certificate names — those are compared as presented, so a
// raw UTF-8 dNSName never matches (docs/design.md §5).
//
// IDNA2008, non-transitional (UTS #46 mapping for case folding): `faß.de`
// becomes `xn--fa-hia.de`, never `fass.de`. A name that cannot be converted is
// an error for the caller to report, never a silent no-match.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::matching {

// True when `name` is already a domain name as IDNA2008 writes it, without
// the UTS #46 mapping that reference_name::parse applies: ASCII (any case),
// or U-labels in their one valid form. False for names that only become a
// domain after mapping — full-width letters (`ａccepted.test`), ideographic
// full stops (`accepted。test`), upper-case non-ASCII — and for names that
// do not convert at all. Relay control (docs/design.md §10) asks this so that the
// domain it accepted is the domain the next hop reads, whatever the next
// hop's own IDN handling.
bool written_in_idna2008_form(std::string_view name);

class reference_name {
public:
    // Parses and normalises `input`: one trailing dot removed, Unicode
    // converted to A-labels, ASCII lower-cased, then checked to be a valid
    // LDH host name (no wildcard, no IP address literal). On failure returns
    // nullopt and, when `error` is given, a sentence saying why.
    static std::optional<reference_name> parse(std::string_view input, std::string* error = nullptr);

    // Canonical A-label form: lower case, no trailing dot.
    const std::string& text() const noexcept { return text_; }

    friend bool operator==(const reference_name&, const reference_name&) = default;

private:
    explicit reference_name(std::string text) : text_(std::move(text)) {}
    std::string text_;
};

}  // namespace dsproxy::matching
