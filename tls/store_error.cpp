// store_error — see store_error.hpp.
#include "tls/store_error.hpp"

#include <string>

namespace dsproxy::tls {

std::string_view to_string(store_error e) noexcept {
    switch (e) {
    case store_error::ok: return "ok";
    case store_error::unreadable_file: return "file cannot be read";
    case store_error::no_certificate: return "no certificate in the file";
    case store_error::not_v3: return "certificate is not X.509 version 3";
    case store_error::no_private_key: return "no private key for the certificate";
    case store_error::key_mismatch: return "private key does not match the certificate";
    case store_error::weak_rsa_key: return "RSA key shorter than 2048 bits";
    case store_error::unsupported_key: return "key is neither RSA nor ECDSA";
    case store_error::eku_without_server_auth:
        return "extended key usage does not allow TLS server authentication (serverAuth)";
    case store_error::eku_without_client_auth:
        return "extended key usage does not allow TLS client authentication (clientAuth)";
    case store_error::key_file_permissions: return "private key file is readable by group or others";
    }
    return "unknown certificate store error";
}

namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "dsproxy.tls.store"; }
    std::string message(int ev) const override { return std::string(to_string(static_cast<store_error>(ev))); }
};

}  // namespace

const std::error_category& store_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(store_error e) noexcept { return {static_cast<int>(e), store_category()}; }

}  // namespace dsproxy::tls
