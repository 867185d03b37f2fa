// certificate_import — see certificate_import.hpp.
#include "tls/certificate_import.hpp"

#include "tls/pem_io.hpp"

#include <openssl/err.h>

#include <filesystem>

namespace dsproxy::tls {

namespace fs = std::filesystem;

std::optional<import_result> import_certificate(const std::string& input, const std::string& store_dir,
                                                std::string& error) {
    auto bytes = read_file(input, error);
    if (!bytes) return std::nullopt;
    auto certs = parse_certificates(*bytes);
    if (certs.empty()) {
        error = "no PEM, DER or PKCS#7 certificate in " + input;
        return std::nullopt;
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(store_dir, ec)) {
        if (entry.path().extension() != ".key" || !entry.is_regular_file()) continue;
        std::string ignored;
        auto key_bytes = read_file(entry.path().string(), ignored);
        evp_pkey_ptr key = key_bytes ? parse_private_key(*key_bytes) : nullptr;
        if (!key) continue;
        for (std::size_t i = 0; i < certs.size(); ++i) {
            if (X509_check_private_key(certs[i].get(), key.get()) != 1) continue;
            x509_ptr leaf = std::move(certs[i]);
            certs.erase(certs.begin() + static_cast<std::ptrdiff_t>(i));
            import_result out;
            out.key_path = entry.path().string();
            out.certificate_path = fs::path(out.key_path).replace_extension(".pem").string();
            std::string pem = certificate_pem(*leaf);
            for (const auto& c : certs) pem += certificate_pem(*c);
            load_problem problem;
            out.cert = make_credential(std::move(leaf), std::move(certs), std::move(key), certificate_use::server,
                                       nullptr, problem);
            if (!out.cert) {
                error = "the certificate matches " + out.key_path + " but is refused: " + problem.detail;
                return std::nullopt;
            }
            if (!write_file(out.certificate_path, pem, public_file_mode, /*exclusive=*/false, error)) return std::nullopt;
            auto owned = std::const_pointer_cast<credential>(out.cert);
            owned->certificate_path = out.certificate_path;
            owned->key_path = out.key_path;
            return out;
        }
        ERR_clear_error();
    }
    if (ec) {
        error = "cannot read the store directory " + store_dir + ": " + ec.message();
        return std::nullopt;
    }
    error = "no private key in " + store_dir + " matches the certificate in " + input +
            "; import it into the store where `dsproxy cert request` made its key";
    return std::nullopt;
}

}  // namespace dsproxy::tls
