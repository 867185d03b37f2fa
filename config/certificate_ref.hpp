// certificate_ref — how the configuration names one certificate of the store.
//
// Owns: parsing a thumbprint (SHA-1, as Exchange prints it, or SHA-256; hex,
// colons and spaces allowed, any case) or a DNS name that selects by the
// docs/design.md §4.1 rules.
// Must not: look at the store; whether the certificate exists is decided
// when the store is loaded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::config {

struct certificate_ref {
    enum class kind { sha1, sha256, name };
    kind by = kind::name;
    std::string value;  // upper-case hex without separators, or an A-label name

    friend bool operator==(const certificate_ref&, const certificate_ref&) = default;
};

// A thumbprint only: 40 hex digits (SHA-1) or 64 (SHA-256).
std::optional<certificate_ref> parse_thumbprint(std::string_view text, std::string* error = nullptr);
// A thumbprint, or else a DNS name.
std::optional<certificate_ref> parse_certificate_ref(std::string_view text, std::string* error = nullptr);
// Thumbprints print as hex, names as the name.
std::string to_string(const certificate_ref& ref);

}  // namespace dsproxy::config
