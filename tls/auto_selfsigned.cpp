// auto_selfsigned — see auto_selfsigned.hpp.
#include "tls/auto_selfsigned.hpp"

#include "tls/certificate_selection.hpp"
#include "tls/file_transaction.hpp"
#include "tls/pem_io.hpp"
#include "tls/san_names.hpp"
#include "tls/subject_name.hpp"

#include <filesystem>

namespace dsproxy::tls {

std::optional<auto_selfsigned_result> ensure_self_signed(const certificate_store& store,
                                                         const auto_selfsigned_request& request, std::time_t now,
                                                         std::string& error) {
    const auto fqdn = matching::reference_name::parse(request.fqdn, &error);
    if (!fqdn) return std::nullopt;
    if (!rank_candidates(store, *fqdn, now).empty()) return auto_selfsigned_result{};

    certificate_template t;
    // A CN holds at most 64 characters (RFC 5280 ub-common-name); a longer
    // FQDN goes in the SAN only, as `cert request --fqdn` advises, and the CN
    // (which peers ignore beside a SAN) is its first label.
    const std::string& name = fqdn->text();
    t.subject = {{"CN", name.size() <= max_common_name_chars ? name : name.substr(0, name.find('.'))}};
    t.days = request.days;
    t.dns_names.push_back(fqdn->text());
    for (const auto& d : request.accepted_domains) {
        auto name = normalize_san_name(d, error);
        if (!name) return std::nullopt;
        add_unique_name(t.dns_names, std::move(*name));
    }
    const auto spec = key_spec::parse(request.key_type);
    if (!spec) {
        error = "unknown key type '" + request.key_type + "'";
        return std::nullopt;
    }
    evp_pkey_ptr key = generate_key(*spec);
    if (!key) {
        error = "cannot generate a " + request.key_type + " key";
        return std::nullopt;
    }
    x509_ptr cert = build_self_signed(t, *key, error);
    if (!cert) return std::nullopt;

    auto_selfsigned_result out;
    const std::filesystem::path dir(request.directory);
    out.key_path = (dir / (fqdn->text() + ".key")).string();
    out.certificate_path = (dir / (fqdn->text() + ".pem")).string();
    // Both or neither: a key without its certificate would block the next start's attempt.
    file_transaction files;
    if (!files.stage(out.key_path, private_key_pem(*key), private_key_mode, /*exclusive=*/true, error) ||
        !files.stage(out.certificate_path, certificate_pem(*cert), public_file_mode, /*exclusive=*/true, error) ||
        !files.commit(error))
        return std::nullopt;

    load_problem problem;
    auto c = make_credential(std::move(cert), {}, std::move(key), certificate_use::server, nullptr, problem);
    if (!c) {
        error = problem.detail;
        return std::nullopt;
    }
    auto owned = std::const_pointer_cast<credential>(c);
    owned->certificate_path = out.certificate_path;
    owned->key_path = out.key_path;
    out.created = true;
    out.cert = std::move(c);
    return out;
}

}  // namespace dsproxy::tls
