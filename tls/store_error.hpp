// store_error — why a certificate was refused by the certificate store
// (docs/design.md §4.1), as a std::error_code category whose zero is success.
//
// Owns: the names of the refusals and one plain sentence for each.
// Must not: log (proxy/ does) — the store returns these as values.
#pragma once

#include <string_view>
#include <system_error>

namespace dsproxy::tls {

enum class store_error {
    ok = 0,
    unreadable_file,         // cannot open/read the certificate or key file
    no_certificate,          // no PEM/DER certificate in the file
    not_v3,                  // X.509 v1/v2: no extensions, no SAN
    no_private_key,          // no key next to the certificate
    key_mismatch,            // the key does not belong to the certificate
    weak_rsa_key,            // RSA under 2048 bits
    unsupported_key,         // neither RSA nor ECDSA
    eku_without_server_auth, // EKU present, serverAuth absent
    eku_without_client_auth, // client-only certificate: EKU present, clientAuth absent
    key_file_permissions,    // key readable by group or others
};

std::string_view to_string(store_error e) noexcept;
const std::error_category& store_category() noexcept;
std::error_code make_error_code(store_error e) noexcept;

}  // namespace dsproxy::tls

template <>
struct std::is_error_code_enum<dsproxy::tls::store_error> : std::true_type {};
