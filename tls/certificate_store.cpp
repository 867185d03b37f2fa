// certificate_store — see certificate_store.hpp.
#include "tls/certificate_store.hpp"

#include "matching/dns_name.hpp"
#include "matching/name_matcher.hpp"
#include "tls/pem_io.hpp"

#include <openssl/err.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

namespace dsproxy::tls {

namespace fs = std::filesystem;

namespace {

constexpr int min_rsa_bits = 2048;

load_problem refuse(store_error e, std::string detail = {}) {
    return {{}, make_error_code(e), detail.empty() ? std::string(to_string(e)) : std::move(detail)};
}

bool chains(X509& leaf, const std::vector<x509_ptr>& chain, const trust_store* trust) {
    if (!trust) return false;
    x509_stack_ptr untrusted(sk_X509_new_null());
    for (const auto& c : chain) {
        X509_up_ref(c.get());
        sk_X509_push(untrusted.get(), c.get());
    }
    x509_store_ctx_ptr ctx(X509_STORE_CTX_new());
    if (!X509_STORE_CTX_init(ctx.get(), trust->get(), &leaf, untrusted.get())) return false;
    // Validity in time is judged at selection, not here: a store loaded today
    // must rank correctly tomorrow.
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
    const bool ok = X509_verify_cert(ctx.get()) == 1;
    ERR_clear_error();
    return ok;
}

std::vector<std::string> index_names(const certificate_info& info) {
    const auto& raw = info.dns_names.empty() ? info.common_names : info.dns_names;
    std::vector<std::string> out;
    for (const auto& n : raw) {
        matching::canonical_name c;
        matching::ignore_reason why{};
        if (matching::canonicalize_presented(n, c, why)) out.push_back(std::move(c.text));
    }
    return out;
}

bool is_certificate_file(const fs::path& p) {
    const auto ext = p.extension().string();
    return ext == ".pem" || ext == ".crt" || ext == ".cer";
}

void load_file(const std::string& cert_path, std::string key_path, certificate_use use,
               const store_options& options, certificate_store& store, std::vector<load_problem>& problems) {
    auto report = [&](load_problem p, const std::string& path) {
        p.path = path;
        problems.push_back(std::move(p));
    };
    std::string error;
    auto bytes = read_file(cert_path, error);
    if (!bytes) return report(refuse(store_error::unreadable_file, error), cert_path);
    auto certs = parse_certificates(*bytes);
    if (certs.empty()) return report(refuse(store_error::no_certificate), cert_path);

    std::string key_bytes;
    if (contains_private_key(*bytes)) {
        key_path = cert_path;
        key_bytes = *bytes;
    } else {
        if (key_path.empty()) key_path = fs::path(cert_path).replace_extension(".key").string();
        if (!fs::exists(key_path))
            return report(refuse(store_error::no_private_key,
                                 "no private key for the certificate: not in the file, and " + key_path +
                                     " does not exist"),
                          cert_path);
    }
    struct stat st{};
    if (::stat(key_path.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) && !options.allow_readable_keys)
        return report(refuse(store_error::key_file_permissions,
                             "private key file " + key_path + " is readable by group or others; chmod 600 it"),
                      cert_path);
    if (key_bytes.empty()) {
        auto k = read_file(key_path, error);
        if (!k) return report(refuse(store_error::unreadable_file, error), cert_path);
        key_bytes = std::move(*k);
    }
    evp_pkey_ptr key = parse_private_key(key_bytes);
    if (!key)
        return report(refuse(store_error::no_private_key, "no unencrypted PEM private key in " + key_path), cert_path);

    x509_ptr leaf = std::move(certs.front());
    certs.erase(certs.begin());
    load_problem problem;
    auto c = make_credential(std::move(leaf), std::move(certs), std::move(key), use, options.trust, problem);
    if (!c) return report(std::move(problem), cert_path);
    auto owned = std::const_pointer_cast<credential>(c);
    owned->certificate_path = cert_path;
    owned->key_path = key_path;
    owned->friendly_name = friendly_name_of(*bytes);
    store.add(std::move(c));
}

}  // namespace

std::shared_ptr<const credential> make_credential(x509_ptr cert, std::vector<x509_ptr> chain, evp_pkey_ptr key,
                                                  certificate_use use, const trust_store* trust,
                                                  load_problem& problem) {
    if (X509_get_version(cert.get()) != X509_VERSION_3) {
        problem = refuse(store_error::not_v3);
        return nullptr;
    }
    if (!key) {
        problem = refuse(store_error::no_private_key);
        return nullptr;
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        problem = refuse(store_error::key_mismatch);
        return nullptr;
    }
    const key_description kd = describe_key(*key);
    if (kd.algorithm == key_algorithm::other) {
        problem = refuse(store_error::unsupported_key, "key type " + kd.curve + " is neither RSA nor ECDSA");
        return nullptr;
    }
    if (kd.algorithm == key_algorithm::rsa && kd.bits < min_rsa_bits) {
        problem = refuse(store_error::weak_rsa_key,
                         "RSA key of " + std::to_string(kd.bits) + " bits; at least 2048 are required");
        return nullptr;
    }
    auto c = std::make_shared<credential>();
    const bool has_eku = (X509_get_extension_flags(cert.get()) & EXFLAG_XKUSAGE) != 0;
    const uint32_t eku = X509_get_extended_key_usage(cert.get());
    c->server_auth = !has_eku || (eku & (XKU_SSL_SERVER | XKU_ANYEKU));
    c->client_auth = !has_eku || (eku & (XKU_SSL_CLIENT | XKU_ANYEKU));
    if (use == certificate_use::server && !c->server_auth) {
        problem = refuse(store_error::eku_without_server_auth);
        return nullptr;
    }
    if (use == certificate_use::client && !c->client_auth) {
        problem = refuse(store_error::eku_without_client_auth);
        return nullptr;
    }
    c->use = use;
    c->info = describe(*cert);
    c->names = index_names(c->info);
    c->chains_to_trust = chains(*cert, chain, trust);
    c->certificate = std::move(cert);
    c->chain = std::move(chain);
    c->key = std::move(key);
    return c;
}

certificate_store certificate_store::load(const std::vector<store_source>& sources, const store_options& options,
                                          std::vector<load_problem>& problems) {
    certificate_store store;
    for (const auto& source : sources) {
        std::error_code ec;
        if (!fs::is_directory(source.path, ec)) {
            load_file(source.path, source.key_path, source.use, options, store, problems);
            continue;
        }
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(source.path, ec)) {
            const auto name = entry.path().filename().string();
            if (!name.empty() && name[0] != '.' && entry.is_regular_file() && is_certificate_file(entry.path()))
                files.push_back(entry.path());
        }
        if (ec) {
            problems.push_back({source.path, make_error_code(store_error::unreadable_file),
                                "cannot read directory " + source.path + ": " + ec.message()});
            continue;
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) load_file(f.string(), {}, source.use, options, store, problems);
    }
    return store;
}

void certificate_store::add(std::shared_ptr<const credential> c) {
    const std::size_t index = all_.size();
    for (const auto& n : c->names) {
        if (n.size() > 2 && n.compare(0, 2, "*.") == 0)
            wildcard_[n.substr(2)].push_back(index);
        else
            exact_[n].push_back(index);
    }
    all_.push_back(std::move(c));
}

std::vector<std::shared_ptr<const credential>> certificate_store::exact(const std::string& name) const {
    std::vector<std::shared_ptr<const credential>> out;
    if (auto it = exact_.find(name); it != exact_.end())
        for (auto i : it->second) out.push_back(all_[i]);
    return out;
}

std::vector<std::shared_ptr<const credential>> certificate_store::wildcard(const std::string& name) const {
    std::vector<std::shared_ptr<const credential>> out;
    const auto dot = name.find('.');
    if (dot == std::string::npos) return out;
    const auto it = wildcard_.find(name.substr(dot + 1));
    if (it == wildcard_.end()) return out;
    // The index finds the candidates; the matcher's host rules decide (they
    // refuse `*.com`), so that there is one implementation of wildcards.
    const auto reference = matching::reference_name::parse(name);
    if (!reference) return out;
    matching::presented_names presented;
    presented.dns_names.push_back("*." + it->first);
    const auto result = matching::match(*reference, presented, {matching::rule_set::host, matching::cn_fallback::no_san});
    if (!result.matched || result.how != matching::rule::wildcard) return out;
    for (auto i : it->second) out.push_back(all_[i]);
    return out;
}

}  // namespace dsproxy::tls
