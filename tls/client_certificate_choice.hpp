// client_certificate_choice — the local certificate a client leg presents,
// and, when none can be used as one, why in words an administrator can act on
// (docs/design.md §4.1, §6.1).
//
// Owns: the rule that a certificate without clientAuth in its extended key
// usage is never presented as a client certificate, said aloud: the
// certificate that would have been chosen (the same selection for server
// use) is named by thumbprint, subject and extended key usage, with what
// needs it and what to do. Shared by `dsproxy check-config`, the start and
// reload, and the sessions, so all say the same (issue 15 item 1).
// Must not: log or do I/O.
#pragma once

#include "tls/certificate_selection.hpp"

#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>

namespace dsproxy::tls {

// "serverAuth", "serverAuth,clientAuth", "emailProtection"; "absent (any
// use)" for a certificate without the extension.
std::string extended_key_usage_text(X509& cert);

struct client_certificate_choice {
    std::shared_ptr<const credential> cert;  // null: none that can be a client certificate
    std::string problem;                     // when null: one sentence, see above
    explicit operator bool() const noexcept { return cert != nullptr; }
};

// `policy.use` is taken as client. `needed_by` names what needs it
// ("upstream backend (level domain-secure)").
client_certificate_choice choose_client_certificate(const certificate_store& store, selection_policy policy,
                                                    std::string_view needed_by, std::time_t now);

}  // namespace dsproxy::tls
