// cert_report — see cert_report.hpp.
#include "proxy/cli/cert_report.hpp"

#include "proxy/cli/password_input.hpp"
#include "proxy/cli/subcommand.hpp"
#include "tls/certificate_expiry.hpp"
#include "tls/certificate_import.hpp"
#include "tls/certificate_info.hpp"
#include "tls/certificate_selection.hpp"
#include "tls/certificate_store.hpp"
#include "tls/pem_io.hpp"
#include "tls/pkcs12_io.hpp"

#include <ctime>
#include <filesystem>
#include <iostream>

namespace dsproxy::cli {

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out.empty() ? "(none)" : out;
}

void print(const tls::certificate_info& info, std::time_t now) {
    std::string state = now < info.not_before ? " (not yet valid)" : now > info.not_after ? " (EXPIRED)" : "";
    if (const auto days = tls::expires_within(info, now); days && state.empty())
        state = " (EXPIRES in " + std::to_string(*days) + " day(s): renew it)";
    std::cout << "Thumbprint:  " << info.sha1_thumbprint << '\n'
              << "SHA256:      " << info.sha256 << '\n'
              << "Subject:     " << info.subject << '\n'
              << "DNS names:   " << join(info.dns_names) << '\n'
              << "NotBefore:   " << tls::format_utc(info.not_before) << '\n'
              << "NotAfter:    " << tls::format_utc(info.not_after) << state << '\n'
              << "Issuer:      " << info.issuer << '\n'
              << "Self-signed: " << (info.self_signed ? "yes" : "no") << '\n'
              << "Key type:    " << info.key.text() << '\n';
}

void print(const tls::credential& c, std::time_t now) {
    print(c.info, now);
    if (!c.friendly_name.empty()) std::cout << "FriendlyName: " << c.friendly_name << '\n';
    std::cout << "Certificate: " << c.certificate_path << '\n'
              << "Key:         " << c.key_path << '\n';
}

std::optional<tls::certificate_store> load(const std::vector<std::string>& dirs, const std::string& ca_file,
                                           bool allow_readable, std::optional<tls::trust_store>& trust) {
    std::string error;
    tls::trust_settings settings;  // the given bundle, else the system's store
    settings.system = ca_file.empty();
    if (!ca_file.empty()) settings.ca_files.push_back(ca_file);
    trust = tls::trust_store::load(settings, error);
    if (!trust) {
        std::cerr << "dsproxy cert: " << error << '\n';
        return std::nullopt;
    }
    std::vector<tls::store_source> sources;
    for (const auto& d : dirs) sources.push_back({d, {}, tls::certificate_use::server});
    std::vector<tls::load_problem> problems;
    tls::store_options options;
    options.allow_readable_keys = allow_readable;
    options.trust = &*trust;
    auto store = tls::certificate_store::load(sources, options, problems);
    for (const auto& p : problems) std::cerr << "refused: " << p.path << ": " << p.detail << '\n';
    return store;
}

}  // namespace

int run_cert_list(const cert_list_args& args) {
    std::optional<tls::trust_store> trust;
    const auto store = load(args.stores, args.ca_file, args.allow_readable_keys, trust);
    if (!store) return exit_usage;
    const std::time_t now = std::time(nullptr);

    if (!args.domain.empty()) {
        std::string error;
        const auto name = matching::reference_name::parse(args.domain, &error);
        if (!name) {
            std::cerr << "dsproxy cert list: " << error << '\n';
            return exit_usage;
        }
        const auto list = tls::rank_candidates(*store, *name, now);
        if (list.empty()) {
            std::cout << "no certificate for " << name->text() << '\n';
            return 1;
        }
        tls::selection_policy policy;
        policy.fqdn = name->text();
        const auto to_ecdsa = tls::select_certificate(*store, policy, {{}, true}, now);
        const auto to_rsa = tls::select_certificate(*store, policy, {{}, false}, now);
        for (std::size_t i = 0; i < list.size(); ++i) {
            const auto& c = list[i];
            std::string served;
            if (c.cert == to_ecdsa.cert && c.cert == to_rsa.cert) served = "  <- served";
            else if (c.cert == to_ecdsa.cert) served = "  <- served to clients offering ECDSA";
            else if (c.cert == to_rsa.cert) served = "  <- served to clients without ECDSA";
            std::cout << (i ? "\n#" : "#") << i + 1 << "  " << (c.by == matching::rule::exact ? "exact name" : "wildcard")
                      << ", " << to_string(c.rank) << served << '\n';
            print(*c.cert, now);
        }
        return 0;
    }
    bool first = true;
    for (const auto& c : store->all()) {
        if (!first) std::cout << '\n';
        first = false;
        print(*c, now);
        std::vector<std::string> serves;
        for (const auto& [label, p] : args.servers) {
            const auto ecdsa = tls::select_certificate(*store, p, {{}, true}, now);
            const auto rsa = tls::select_certificate(*store, p, {{}, false}, now);
            if (ecdsa.cert == c || rsa.cert == c) serves.push_back(label);
        }
        if (!args.servers.empty()) std::cout << "Served for:  " << join(serves) << '\n';
    }
    if (first) std::cout << "no certificates in " << join(args.stores) << '\n';
    return 0;
}

int run_cert_show(const cert_show_args& args) {
    const std::time_t now = std::time(nullptr);
    std::error_code ec;
    if (std::filesystem::is_regular_file(args.what, ec)) {
        std::string error;
        auto bytes = tls::read_file(args.what, error);
        auto certs = bytes ? tls::parse_certificates(*bytes) : std::vector<tls::x509_ptr>{};
        if (certs.empty()) {
            std::cerr << "dsproxy cert show: " << (bytes ? "no certificate in " + args.what : error) << '\n';
            return exit_usage;
        }
        for (std::size_t i = 0; i < certs.size(); ++i) {
            if (i) std::cout << '\n';
            print(tls::describe(*certs[i]), now);
        }
        return 0;
    }
    const auto pin = tls::normalize_thumbprint(args.what);
    if (!pin) {
        std::cerr << "dsproxy cert show: '" << args.what << "' is neither a file nor a SHA-1/SHA-256 thumbprint\n";
        return exit_usage;
    }
    std::optional<tls::trust_store> trust;
    const auto store = load(args.stores, {}, args.allow_readable_keys, trust);
    if (!store) return exit_usage;
    for (const auto& c : store->all())
        if (c->info.sha1_thumbprint == *pin || c->info.sha256 == *pin) {
            print(*c, now);
            return 0;
        }
    std::cerr << "dsproxy cert show: no certificate with thumbprint " << *pin << " in " << join(args.stores) << '\n';
    return 1;
}

int run_cert_export(const cert_export_args& args) {
    const char* what = "dsproxy cert export";
    std::optional<tls::trust_store> trust;
    const auto store = load(args.stores, {}, args.allow_readable_keys, trust);
    if (!store) return exit_usage;
    const auto pin = tls::normalize_thumbprint(args.what);
    std::error_code ec;
    std::shared_ptr<const tls::credential> found;
    for (const auto& c : store->all()) {
        const bool by_file = std::filesystem::equivalent(c->certificate_path, args.what, ec);
        if (by_file || (pin && (c->info.sha1_thumbprint == *pin || c->info.sha256 == *pin))) found = c;
    }
    if (!found) {
        std::cerr << what << ": no certificate " << args.what << " in " << join(args.stores)
                  << " (give a certificate file of the store or a thumbprint `cert list` prints)\n";
        return 1;
    }
    std::string bytes, error;
    mode_t mode = tls::public_file_mode;
    if (args.pkcs12) {
        auto password = read_password(args.password_file, "Password for " + args.out, /*confirm=*/true, error);
        if (password && password->empty()) error = "an empty password protects nothing; give one";
        if (!password || !error.empty()) {
            std::cerr << what << ": " << error << "; nothing written\n";
            return exit_usage;
        }
        std::string name = !found->friendly_name.empty()      ? found->friendly_name
                           : found->info.common_names.empty() ? tls::certificate_stem(found->info)
                                                                : found->info.common_names.front();
        bytes = tls::make_pkcs12(*found->key, *found->certificate, found->chain, name, *password, error);
        mode = tls::private_key_mode;
    } else {
        bytes = tls::certificate_pem(*found->certificate);
        for (const auto& c : found->chain) bytes += tls::certificate_pem(*c);
    }
    if (bytes.empty() || !tls::write_file(args.out, bytes, mode, /*exclusive=*/true, error)) {
        std::cerr << what << ": " << error << "; nothing written\n";
        return exit_usage;
    }
    std::cout << (args.pkcs12 ? "pkcs12:      " : "pem:         ") << args.out
              << (args.pkcs12 ? " (key, certificate and " : " (certificate and ") << found->chain.size()
              << " chain certificate(s)" << (args.pkcs12 ? ", mode 0600)" : ")") << '\n'
              << "Thumbprint:  " << found->info.sha1_thumbprint << '\n';
    return 0;
}

}  // namespace dsproxy::cli
