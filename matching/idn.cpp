// idn — see idn.hpp.
#include "matching/idn.hpp"

#include "matching/dns_name.hpp"

#include <idn2.h>

#include <algorithm>
#include <memory>

namespace dsproxy::matching {

namespace {

void set_error(std::string* error, std::string message) {
    if (error) *error = std::move(message);
}

bool all_digits(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Every "xn--" label must be an A-label IDNA2008 would produce: it decodes
// (Punycode) to a U-label that encodes back to the same label. This refuses
// "xn--zz" and non-canonical or pure-ASCII encodings, so a reference cannot
// be a name no registry could hold.
bool a_labels_valid(const std::string& ascii, std::string& bad_label) {
    std::size_t start = 0;
    while (start <= ascii.size()) {
        const auto end = std::min(ascii.find('.', start), ascii.size());
        const std::string label = ascii.substr(start, end - start);
        if (label.rfind("xn--", 0) == 0) {
            char* unicode = nullptr;
            const int rc = idn2_to_unicode_8z8z(label.c_str(), &unicode, 0);
            const std::unique_ptr<char, decltype(&idn2_free)> owned_unicode(unicode, &idn2_free);
            char* back = nullptr;
            const int rc2 = rc == IDN2_OK ? idn2_to_ascii_8z(unicode, &back, IDN2_NONTRANSITIONAL) : rc;
            const std::unique_ptr<char, decltype(&idn2_free)> owned_back(back, &idn2_free);
            if (rc2 != IDN2_OK || label != back) {
                bad_label = label;
                return false;
            }
        }
        start = end + 1;
    }
    return true;
}

}  // namespace

bool written_in_idna2008_form(std::string_view name) {
    if (std::all_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
        return name.find('\0') == std::string_view::npos;
    const std::string utf8(name);
    char* out = nullptr;
    // IDN2_NO_TR46: IDNA2008 proper, no mapping; only '.' separates labels.
    const int rc = idn2_to_ascii_8z(utf8.c_str(), &out, IDN2_NO_TR46);
    const std::unique_ptr<char, decltype(&idn2_free)> owned(out, &idn2_free);
    return rc == IDN2_OK;
}

std::optional<reference_name> reference_name::parse(std::string_view input, std::string* error) {
    if (input.find('\0') != std::string_view::npos) {
        set_error(error, "name contains a NUL byte");
        return std::nullopt;
    }
    std::string_view name = input;
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // one trailing dot only
    if (name.empty()) {
        set_error(error, "empty name");
        return std::nullopt;
    }

    std::string ascii;
    const bool non_ascii =
        std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    if (non_ascii) {
        // idn2 wants a NUL-terminated UTF-8 string.
        const std::string utf8(name);
        char* out = nullptr;
        const int rc = idn2_to_ascii_8z(utf8.c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
        const std::unique_ptr<char, decltype(&idn2_free)> owned(out, &idn2_free);
        if (rc != IDN2_OK) {
            set_error(error, "cannot convert '" + utf8 + "' to an IDNA2008 A-label: " + idn2_strerror(rc));
            return std::nullopt;
        }
        ascii = owned.get();
    } else {
        ascii = name;
    }
    std::transform(ascii.begin(), ascii.end(), ascii.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });

    if (!is_ldh_host(ascii)) {
        set_error(error, "'" + std::string(input) +
                             "' is not a valid host name (labels of 1-63 letters, digits and inner hyphens, "
                             "at most 253 octets, no wildcard)");
        return std::nullopt;
    }
    if (std::string bad; !a_labels_valid(ascii, bad)) {
        set_error(error, "'" + bad + "' is not a valid IDNA2008 A-label");
        return std::nullopt;
    }
    // No top-level domain is all-numeric (RFC 3696 §2); this refuses IPv4
    // literals, which are never a domain to match certificates against.
    const auto last_dot = ascii.rfind('.');
    if (all_digits(last_dot == std::string::npos ? std::string_view(ascii)
                                                 : std::string_view(ascii).substr(last_dot + 1))) {
        set_error(error, "'" + std::string(input) + "' looks like an IP address, not a domain name");
        return std::nullopt;
    }
    return reference_name(std::move(ascii));
}

}  // namespace dsproxy::matching
