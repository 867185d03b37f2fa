// certificate_names — the names an X.509 certificate presents, for matching.
//
// Owns: reading SAN dNSNames, iPAddress SANs and subject CNs out of a
// certificate, byte for byte (embedded NULs and non-ASCII kept, so that the
// matcher can refuse them with a reason).
// Must not: decide anything — matching/ does that.
#pragma once

#include "matching/name_matcher.hpp"

#include <openssl/x509.h>

#include <optional>
#include <string>
#include <vector>

namespace dsproxy::tls {

struct certificate_names {
    matching::presented_names names;       // dNSName SANs and subject CNs
    std::vector<std::string> ip_addresses;  // iPAddress SANs, in text form (never matched)
};

// Extracts the names of `cert`. CN values are converted to UTF-8 from
// whatever ASN.1 string type they use.
certificate_names extract_names(const X509& cert);

// Reads the first certificate of a PEM or DER file and extracts its names.
// On failure returns nullopt and sets `error` to a sentence naming the file.
std::optional<certificate_names> load_certificate_names(const std::string& path, std::string& error);

}  // namespace dsproxy::tls
