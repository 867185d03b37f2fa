// certificate_import — see certificate_import.hpp.
#include "tls/certificate_import.hpp"

#include "matching/dns_name.hpp"
#include "tls/pem_io.hpp"
#include "tls/pkcs12_io.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <filesystem>

namespace dsproxy::tls {

namespace fs = std::filesystem;

namespace {

struct parsed_input {
    std::vector<x509_ptr> certs;
    evp_pkey_ptr key;  // null: to be found in the store
    std::string format;
    std::string friendly_name;  // a PKCS#12 file's
};

// What parse_certificates found the certificates in.
const char* format_of(const std::string& bytes) {
    if (bytes.find("-----BEGIN PKCS7") != std::string::npos) return "PKCS#7";
    if (bytes.find("-----BEGIN ") != std::string::npos) return "PEM";
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    x509_ptr der(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
    ERR_clear_error();
    return der ? "DER" : "PKCS#7";
}

std::optional<parsed_input> read_input(const import_request& r, std::string& error) {
    auto bytes = read_file(r.input, error);
    if (!bytes) return std::nullopt;
    parsed_input in;
    in.certs = parse_certificates(*bytes);
    if (!in.certs.empty()) {
        in.format = format_of(*bytes);
        if (contains_private_key(*bytes)) {
            in.key = parse_private_key(*bytes);
            if (!in.key) {
                error = "the private key in " + r.input + " is encrypted or unreadable; give an unencrypted one";
                return std::nullopt;
            }
        }
    } else if (is_pkcs12(*bytes)) {
        in.format = "PKCS#12";
        if (!r.key_file.empty()) {
            error = "a PKCS#12 file carries its key: --key is not for " + r.input;
            return std::nullopt;
        }
        std::string password;
        if (!pkcs12_password_ok(*bytes, password)) {
            auto given = r.password ? r.password() : std::nullopt;
            if (!given) {
                error = r.input + " is protected by a password: give --password-file FILE (or run on a terminal)";
                return std::nullopt;
            }
            password = std::move(*given);
        }
        auto p12 = parse_pkcs12(*bytes, password, error);
        if (!p12) {
            error = r.input + ": " + error;
            return std::nullopt;
        }
        in.key = std::move(p12->key);
        if (is_valid_friendly_name(p12->friendly_name)) in.friendly_name = p12->friendly_name;
        in.certs.push_back(std::move(p12->leaf));
        for (auto& c : p12->chain) in.certs.push_back(std::move(c));
    } else {
        error = "no PEM, DER, PKCS#7 or PKCS#12 certificate in " + r.input;
        return std::nullopt;
    }
    if (!r.key_file.empty()) {
        if (in.key) {
            error = r.input + " holds a private key already: --key is not needed";
            return std::nullopt;
        }
        auto key_bytes = read_file(r.key_file, error);
        if (!key_bytes) return std::nullopt;
        in.key = parse_private_key(*key_bytes);
        if (!in.key) {
            error = "no unencrypted PEM private key in " + r.key_file;
            return std::nullopt;
        }
    }
    return in;
}

// The index of the certificate `key` belongs to, or -1.
int leaf_of(const std::vector<x509_ptr>& certs, EVP_PKEY& key) {
    for (std::size_t i = 0; i < certs.size(); ++i)
        if (X509_check_private_key(certs[i].get(), &key) == 1) return static_cast<int>(i);
    ERR_clear_error();
    return -1;
}

// The store's *.key whose key `certs` has a certificate for: its path and
// the certificate's index.
std::optional<std::pair<std::string, int>> find_store_key(const std::vector<x509_ptr>& certs,
                                                         const std::string& store_dir, evp_pkey_ptr& key,
                                                         std::string& error) {
    std::error_code ec;
    std::vector<fs::path> keys;
    for (const auto& entry : fs::directory_iterator(store_dir, ec))
        if (entry.path().extension() == ".key" && entry.is_regular_file()) keys.push_back(entry.path());
    if (ec) {
        error = "cannot read the store directory " + store_dir + ": " + ec.message();
        return std::nullopt;
    }
    std::sort(keys.begin(), keys.end());
    for (const auto& path : keys) {
        std::string ignored;
        auto key_bytes = read_file(path.string(), ignored);
        evp_pkey_ptr k = key_bytes ? parse_private_key(*key_bytes) : nullptr;
        if (!k) continue;
        if (const int i = leaf_of(certs, *k); i >= 0) {
            key = std::move(k);
            return std::make_pair(path.string(), i);
        }
    }
    return std::nullopt;
}

// Subjects of the chain certificates (all but the first) of the file at
// `path` that `chain` does not have. A self-signed root is not counted: a
// partner's chain check takes it from its own trust store, never from the
// certificates sent (RFC 8446 §4.4.2 lets a server leave it out), so an import
// without it breaks nothing.
std::vector<std::string> dropped_chain(const std::string& path, const std::vector<x509_ptr>& chain) {
    std::vector<std::string> out;
    std::string ignored;
    auto bytes = read_file(path, ignored);
    if (!bytes) return out;
    auto old = parse_certificates(*bytes);
    for (std::size_t i = 1; i < old.size(); ++i) {
        const bool root = X509_self_signed(old[i].get(), /*verify_signature=*/1) == 1;
        ERR_clear_error();
        if (root) continue;
        bool kept = false;
        for (const auto& c : chain) kept = kept || X509_cmp(c.get(), old[i].get()) == 0;
        if (!kept) out.push_back(describe(*old[i]).subject);
    }
    return out;
}

bool is_stem_safe(const std::string& s) {
    if (s.empty() || s.front() == '.') return false;
    for (const char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) return false;
    return true;
}

}  // namespace

std::string certificate_stem(const certificate_info& info) {
    const auto& names = info.dns_names.empty() ? info.common_names : info.dns_names;
    for (const auto& n : names) {
        matching::canonical_name c;
        matching::ignore_reason why{};
        if (!matching::canonicalize_presented(n, c, why)) continue;
        std::string stem = c.text;
        if (stem.rfind("*.", 0) == 0) stem = "wildcard." + stem.substr(2);
        if (is_stem_safe(stem)) return stem;  // a file name, never a path
    }
    return "certificate";
}

std::optional<import_result> prepare_import(const import_request& r, std::string& error) {
    auto in = read_input(r, error);
    if (!in) return std::nullopt;
    import_result out;
    out.format = in->format;
    int leaf_index = -1;
    bool key_into_file = false;
    if (in->key) {
        leaf_index = leaf_of(in->certs, *in->key);
        if (leaf_index < 0) {
            error = "the private key " + (r.key_file.empty() ? "in " + r.input : r.key_file) +
                    " belongs to none of the certificates in " + r.input;
            return std::nullopt;
        }
        // The key may be one a request of this store made: then the
        // certificate goes beside it, as for an issued request.
        evp_pkey_ptr store_key;
        std::vector<x509_ptr> leaf_only;
        leaf_only.emplace_back(X509_dup(in->certs[static_cast<std::size_t>(leaf_index)].get()));
        std::string ignored;
        if (auto found = find_store_key(leaf_only, r.store_dir, store_key, ignored)) {
            out.key_path = found->first;
            out.certificate_path = fs::path(out.key_path).replace_extension(".pem").string();
        } else {
            key_into_file = true;
        }
    } else {
        auto found = find_store_key(in->certs, r.store_dir, in->key, error);
        if (!found) {
            if (error.empty())
                error = "no private key in " + r.store_dir + " matches the certificate in " + r.input +
                        "; import it into the store where `dsproxy cert request` made its key, or give --key FILE";
            return std::nullopt;
        }
        out.key_path = found->first;
        out.certificate_path = fs::path(out.key_path).replace_extension(".pem").string();
        leaf_index = found->second;
    }
    x509_ptr leaf = std::move(in->certs[static_cast<std::size_t>(leaf_index)]);
    in->certs.erase(in->certs.begin() + leaf_index);
    std::vector<x509_ptr> chain = order_chain(*leaf, std::move(in->certs));
    if (key_into_file) {
        out.certificate_path = (fs::path(r.store_dir) / (certificate_stem(describe(*leaf)) + ".pem")).string();
        out.key_path = out.certificate_path;
    }

    std::error_code ec;
    out.replaces = fs::exists(out.certificate_path, ec);
    std::string friendly = !r.friendly_name.empty() ? r.friendly_name : in->friendly_name;
    if (friendly.empty() && out.replaces) {
        std::string ignored;
        if (auto old = read_file(out.certificate_path, ignored)) friendly = friendly_name_of(*old);
    }
    std::string pem = friendly.empty() ? std::string() : friendly_name_block(friendly);
    pem += certificate_pem(*leaf);
    for (const auto& c : chain) pem += certificate_pem(*c);
    if (key_into_file) pem += private_key_pem(*in->key);

    load_problem problem;
    out.cert = make_credential(std::move(leaf), std::move(chain), std::move(in->key), certificate_use::server,
                               nullptr, problem);
    if (!out.cert) {
        error = "the certificate in " + r.input + " is refused: " + problem.detail;
        return std::nullopt;
    }
    auto owned = std::const_pointer_cast<credential>(out.cert);
    owned->certificate_path = out.certificate_path;
    owned->key_path = out.key_path;
    owned->friendly_name = friendly;

    if (out.replaces) {
        out.dropped_chain = dropped_chain(out.certificate_path, out.cert->chain);
        if (!out.dropped_chain.empty() && !r.force) {
            std::string names;
            for (const auto& s : out.dropped_chain) names += (names.empty() ? "" : "; ") + s;
            error = out.certificate_path + " has chain certificate(s) that " + r.input + " lacks (" + names +
                    "): replacing it would break partners' chain checks. Import the whole chain (the CA's "
                    "bundle or .p7b), or give --force";
            return std::nullopt;
        }
    }
    if (!out.files.stage(out.certificate_path, pem, key_into_file ? private_key_mode : public_file_mode,
                         /*exclusive=*/false, error))
        return std::nullopt;
    return out;
}

}  // namespace dsproxy::tls
