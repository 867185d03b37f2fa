// cert_command — `dsproxy cert`: the seed's New-/Import-/Get-ExchangeCertificate
// (docs/design.md §4.2).
//
//   dsproxy cert request    [--subject S] [--fqdn F] [--domain D]... [--from CERT|THUMBPRINT]
//                           [--include-accepted-domains --accepted-domain A...]
//                           [--key-type T] [--der] [--out FILE] [--key-out FILE] [--store DIR]
//   dsproxy cert selfsigned (the same) [--days N]
//   dsproxy cert import FILE [--key KEY] [--password-file F] [--force] [--listener L [-c FILE]] [--store DIR]
//   dsproxy cert export (FILE | THUMBPRINT) --out FILE [--pkcs12 [--password-file F]] [--store DIR]...
//   dsproxy cert list [--store DIR]... [--domain NAME] [--fqdn NAME]... [--ca-file F]
//   dsproxy cert show (FILE | THUMBPRINT) [--store DIR]...
//
// CLI glue only: validation, building, importing and ranking live in tls/.
// Exit codes: 0 done, 1 a negative answer (nothing found), 2 a usage or
// input error (every reason printed). Private keys are written 0600 and never
// overwritten. Every command validates everything before it writes, and
// writes all its files or none (tls::file_transaction): a failed command
// leaves nothing behind that would block its retry. --include-accepted-domains takes the accepted domains of the
// configuration (-c FILE, default conf.d/dsproxy.yaml) unless given with
// --accepted-domain; without --subject and --fqdn the CN is the first
// listener's fqdn there (without -c: conf.d/dsproxy.yaml, else /etc/dsproxy/dsproxy.yaml,
// else the machine's FQDN). --store defaults to the current directory.
#include "proxy/cli/cert_report.hpp"
#include "proxy/cli/password_input.hpp"
#include "proxy/cli/subcommand.hpp"

#include "config/loader.hpp"
#include "proxy/engine/runtime.hpp"
#include "tls/certificate_import.hpp"
#include "tls/certificate_info.hpp"
#include "tls/certificate_inputs.hpp"
#include "tls/file_transaction.hpp"
#include "tls/pem_io.hpp"

#include <netdb.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>

namespace dsproxy::cli {

namespace {

struct cert_make_args {
    tls::certificate_inputs inputs;
    std::string key_type;  // empty: the --from certificate's, else tls::default_key_spec
    bool der = false;
    std::string out, key_out;
    std::string store = ".";
    std::string config_file;  // -c: where the accepted domains and the fqdn come from
    std::string friendly_name;  // selfsigned --friendly-name (Exchange's -FriendlyName)
};

struct cert_import_args {
    std::string file;
    std::string key;            // --key: the certificate's private key (certbot's privkey.pem)
    std::string password_file;  // --password-file: a PKCS#12 file's password
    bool force = false;         // --force: replace even when chain certificates would be dropped
    std::string friendly_name;  // --friendly-name
    std::string store = ".";
    std::string listener;     // --listener: pin the imported certificate for this listener
    std::string config_file;  // -c: where that listener is defined
};

// docs/design.md §4.2 `import --listener NAME`: the listener serves this certificate
// whatever the selection order says, until the pin file is removed. The pin
// lives in the store (<store>/pins/<listener>.pin, the SHA-256 thumbprint),
// read by `dsproxy run` at start and at every reload for a listener whose
// configuration does not pin one itself.
// Checked before anything is written: an unknown listener writes nothing.
bool check_listener(const cert_import_args& args) {
    const std::string path = args.config_file.empty() ? std::string(config::default_main_file) : args.config_file;
    const auto loaded = config::load(path);
    if (!loaded.ok()) {
        for (const auto& d : loaded.errors) std::cerr << config::format(d) << '\n';
        std::cerr << "dsproxy cert import: cannot read the listeners from " << path << " (give -c FILE)\n";
        return false;
    }
    const config::listener* found = nullptr;
    for (const auto& l : loaded.value->listeners)
        if (l.name == args.listener) found = &l;
    if (!found) {
        std::cerr << "dsproxy cert import: no listener `" << args.listener << "` in " << path
                  << "; nothing imported\n";
        return false;
    }
    if (found->certificate)
        std::cerr << "dsproxy cert import: warning: listener " << args.listener
                  << " pins a certificate in the configuration; that pin wins over the store's\n";
    return true;
}

std::string pin_path(const cert_import_args& args) {
    return (std::filesystem::path(args.store) / "pins" / (args.listener + ".pin")).string();
}

// The installed configuration, read for the default CN when no -c is given
// and conf.d/dsproxy.yaml is not in the working directory.
constexpr const char* installed_main_file = "/etc/dsproxy/dsproxy.yaml";

// The machine's fully qualified name, as Exchange's default CN is the
// server's FQDN: gethostname(2), made canonical by the resolver (/etc/hosts
// or DNS) when it can; empty when the result has no dot.
std::string machine_fqdn() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return {};
    std::string out = name;
    addrinfo hints{};
    hints.ai_flags = AI_CANONNAME;
    addrinfo* found = nullptr;
    if (::getaddrinfo(name, nullptr, &hints, &found) == 0 && found) {
        if (found->ai_canonname) out = found->ai_canonname;
        ::freeaddrinfo(found);
    }
    return out.find('.') == std::string::npos ? std::string() : out;
}

// Fills what the configuration knows: the accepted domains (docs/design.md §4.2
// --include-accepted-domains) and the default CN (the first listener's fqdn).
// Without --subject, --fqdn, --from and -c, the configuration is read when
// there is one (conf.d/dsproxy.yaml here, else the installed one), and the CN
// is the machine's FQDN when there is none (issue 19 item 6).
bool apply_config(tls::certificate_inputs& inputs, const std::string& file, const char* what) {
    const bool nameless = inputs.subject.empty() && inputs.fqdn.empty() && inputs.from.empty();
    const bool wanted = !file.empty() || (inputs.include_accepted_domains && inputs.accepted_domains.empty());
    std::string path = file.empty() ? std::string(config::default_main_file) : file;
    if (!wanted && nameless) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) path = installed_main_file;
        if (!std::filesystem::exists(path, ec)) {
            inputs.fqdn = machine_fqdn();
            if (!inputs.fqdn.empty())
                std::cerr << what << ": the CN is this machine's FQDN, " << inputs.fqdn
                          << " (no configuration here; give --fqdn or --subject for another)\n";
            return true;
        }
    }
    if (!wanted && !nameless) return true;
    const auto loaded = config::load(path);
    if (!loaded.ok()) {
        for (const auto& d : loaded.errors) std::cerr << config::format(d) << '\n';
        std::cerr << what << ": cannot read the accepted domains from " << path
                  << " (give -c FILE or --accepted-domain NAME)\n";
        return false;
    }
    if (inputs.accepted_domains.empty())
        for (const auto& [key, where] : loaded.value->accepted_domains.sorted())
            if (!key.subdomains) inputs.accepted_domains.push_back(key.name);
    if (inputs.subject.empty() && inputs.fqdn.empty() && !loaded.value->listeners.empty())
        inputs.fqdn = loaded.value->listeners.front().fqdn;
    return true;
}

// --from THUMBPRINT (Get-ExchangeCertificate -Thumbprint T | New-ExchangeCertificate):
// the certificate file in the store whose leaf has that SHA-1 or SHA-256
// thumbprint. A file name is taken as it is.
bool resolve_from(cert_make_args& args, const char* what) {
    std::error_code ec;
    if (args.inputs.from.empty() || std::filesystem::is_regular_file(args.inputs.from, ec)) return true;
    const auto pin = tls::normalize_thumbprint(args.inputs.from);
    if (!pin) {
        std::cerr << what << ": --from " << args.inputs.from
                  << " is neither a certificate file nor a SHA-1/SHA-256 thumbprint\n";
        return false;
    }
    const EVP_MD* md = pin->size() == 40 ? EVP_sha1() : EVP_sha256();
    for (const auto& entry : std::filesystem::directory_iterator(args.store, ec)) {
        const auto ext = entry.path().extension().string();
        if (!entry.is_regular_file() || (ext != ".pem" && ext != ".crt" && ext != ".cer")) continue;
        std::string ignored;
        auto bytes = tls::read_file(entry.path().string(), ignored);
        auto certs = bytes ? tls::parse_certificates(*bytes) : std::vector<tls::x509_ptr>{};
        if (!certs.empty() && tls::fingerprint(*certs.front(), md) == *pin) {
            args.inputs.from = entry.path().string();
            return true;
        }
    }
    std::cerr << what << ": no certificate with thumbprint " << *pin << " in " << args.store
              << " (give --store DIR, or the certificate file)\n";
    return false;
}

int run_make(const cert_make_args& given, bool self_signed) {
    const char* what = self_signed ? "dsproxy cert selfsigned" : "dsproxy cert request";
    cert_make_args args = given;
    if (!apply_config(args.inputs, args.config_file, what) || !resolve_from(args, what)) return exit_usage;
    std::vector<std::string> errors;
    auto prepared = tls::prepare_certificate(args.inputs, errors);
    // A clone keeps its source's key type (an ECDSA certificate stays ECDSA)
    // unless --key-type says otherwise.
    if (args.key_type.empty())
        args.key_type = prepared && tls::key_spec::parse(prepared->source_key_type) ? prepared->source_key_type
                                                                                   : std::string(tls::default_key_spec);
    const auto spec = tls::key_spec::parse(args.key_type);
    if (!spec) errors.push_back("--key-type must be rsa:2048, rsa:3072, rsa:4096, ec:p256 or ec:p384");
    if (prepared)
        for (const auto& w : prepared->warnings) std::cerr << what << ": warning: " << w << '\n';
    if (!args.friendly_name.empty() && !tls::is_valid_friendly_name(args.friendly_name))
        errors.push_back("--friendly-name: at most 128 characters, no control characters");
    if (!prepared || !spec || !errors.empty()) {
        for (const auto& e : errors) std::cerr << what << ": " << e << '\n';
        return exit_usage;
    }
    const std::filesystem::path dir(args.store);
    const std::string stem = tls::output_stem(prepared->tmpl);
    const std::string key_path = args.key_out.empty() ? (dir / (stem + ".key")).string() : args.key_out;
    const std::string out_path = !args.out.empty() ? args.out
                                 : (dir / (stem + (self_signed ? ".pem" : args.der ? ".req" : ".csr"))).string();

    tls::evp_pkey_ptr key = tls::generate_key(*spec);
    std::string error;
    std::string body;
    if (self_signed) {
        auto cert = tls::build_self_signed(prepared->tmpl, *key, error);
        if (cert)
            body = (args.friendly_name.empty() ? std::string() : tls::friendly_name_block(args.friendly_name)) +
                   tls::certificate_pem(*cert);
    } else {
        auto req = tls::build_request(prepared->tmpl, *key, error);
        if (req) body = args.der ? tls::request_der(*req) : tls::request_pem(*req);
    }
    if (body.empty()) {
        std::cerr << what << ": " << error << '\n';
        return exit_usage;
    }
    // Both or neither: a request that cannot be written leaves no key behind.
    tls::file_transaction files;
    error.clear();
    if (out_path == key_path) error = "--out and --key-out name the same file";
    if (!error.empty() ||
        !files.stage(key_path, tls::private_key_pem(*key), tls::private_key_mode, /*exclusive=*/true, error) ||
        !files.stage(out_path, body, tls::public_file_mode, /*exclusive=*/false, error) || !files.commit(error)) {
        std::cerr << what << ": " << error << "; nothing written\n";
        return exit_usage;
    }
    std::string names;
    for (const auto& n : prepared->tmpl.dns_names) names += (names.empty() ? "" : ", ") + n;
    std::cout << (self_signed ? "certificate: " : "request:     ") << out_path << '\n'
              << "key:         " << key_path << " (mode 0600)\n"
              << "subject:     " << tls::format_subject(prepared->tmpl.subject) << '\n'
              << "DNS names:   " << names << '\n';
    if (self_signed) std::cout << "valid:       " << prepared->tmpl.days << " days\n";
    else std::cout << "next:        send the request to your CA, then: dsproxy cert import ISSUED-FILE --store "
                   << args.store << '\n';
    return 0;
}

int run_import(const cert_import_args& args) {
    const char* what = "dsproxy cert import";
    if (!args.friendly_name.empty() && !tls::is_valid_friendly_name(args.friendly_name)) {
        std::cerr << what << ": --friendly-name: at most 128 characters, no control characters\n";
        return exit_usage;
    }
    if (!args.listener.empty() && !check_listener(args)) return exit_usage;
    tls::import_request request;
    request.input = args.file;
    request.store_dir = args.store;
    request.key_file = args.key;
    request.force = args.force;
    request.friendly_name = args.friendly_name;
    std::string password_error;
    request.password = [&]() -> std::optional<std::string> {
        return read_password(args.password_file, "Password for " + args.file, /*confirm=*/false, password_error);
    };
    std::string error;
    auto result = tls::prepare_import(request, error);
    if (!result) {
        std::cerr << what << ": " << (password_error.empty() ? error : password_error) << "; nothing imported\n";
        return exit_usage;
    }
    const auto& info = result->cert->info;
    if (!args.listener.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(args.store) / "pins", ec);
        if (!result->files.stage(pin_path(args), info.sha256 + "\n", tls::public_file_mode, /*exclusive=*/false,
                                 error)) {
            std::cerr << what << ": " << error << "; nothing imported\n";
            return exit_usage;
        }
    }
    if (!result->files.commit(error)) {
        std::cerr << what << ": " << error << "; nothing imported\n";
        return exit_usage;
    }
    for (const auto& s : result->dropped_chain)
        std::cerr << what << ": warning: --force: the chain certificate " << s << " of the replaced "
                  << result->certificate_path << " is dropped\n";
    std::cout << "certificate: " << result->certificate_path << " (" << result->cert->chain.size()
              << " chain certificate(s), from " << result->format << (result->replaces ? "; replaced" : "") << ")\n"
              << "key:         " << result->key_path
              << (result->key_path == result->certificate_path ? " (in the same file, mode 0600)" : "") << '\n'
              << "Thumbprint:  " << info.sha1_thumbprint << '\n'
              << "SHA256:      " << info.sha256 << '\n';
    if (!result->cert->friendly_name.empty()) std::cout << "FriendlyName: " << result->cert->friendly_name << '\n';
    if (!args.listener.empty())
        std::cout << "pinned:      listener " << args.listener << " serves it (" << pin_path(args)
                  << "); reload dsproxy (SIGHUP) to apply\n";
    return 0;
}

void add_make_options(CLI::App* app, cert_make_args& a) {
    app->add_option("--subject", a.inputs.subject, "Subject, e.g. \"C=US, O=Contoso Corp, CN=mail1.contoso.com\"");
    app->add_option("--fqdn", a.inputs.fqdn, "The listener's FQDN: the CN when --subject is not given");
    app->add_option("--domain", a.inputs.domains, "A DNS name for the subject alternative name (repeatable, or a,b as in Exchange)");
    app->add_flag("--include-accepted-domains", a.inputs.include_accepted_domains,
                  "Add every accepted domain to the subject alternative name");
    app->add_option("--accepted-domain", a.inputs.accepted_domains,
                    "An accepted domain (repeatable; default: those of the configuration)");
    app->add_option("-c,--config", a.config_file,
                    "Configuration to take accepted domains and the fqdn from (default conf.d/dsproxy.yaml)");
    app->add_option("--from", a.inputs.from,
                    "Clone the subject, DNS names and key type of this certificate (a file, or a SHA-1/SHA-256 "
                    "thumbprint in --store); a new key is made");
    app->add_option("--key-type", a.key_type,
                    "rsa:2048 (default; with --from: the clone's), rsa:3072, rsa:4096, ec:p256, ec:p384");
    app->add_option("--out", a.out, "Output file (default: STORE/<first DNS name>.csr|.req|.pem)");
    app->add_option("--key-out", a.key_out, "Private key file (default: STORE/<first DNS name>.key), mode 0600");
    app->add_option("--store", a.store, "Certificate store directory (default: current directory)");
}

}  // namespace

subcommand add_cert_command(CLI::App& parent) {
    CLI::App* cert = parent.add_subcommand("cert", "Create, import and list certificates (the certificate store)");
    cert->require_subcommand(1);

    auto request = std::make_shared<cert_make_args>();
    CLI::App* req_app = cert->add_subcommand("request", "New key and PKCS#10 certificate request");
    add_make_options(req_app, *request);
    req_app->add_flag("--der", request->der, "Write the request in binary DER (.req) instead of PEM");

    auto self = std::make_shared<cert_make_args>();
    CLI::App* self_app = cert->add_subcommand("selfsigned", "New key and self-signed certificate (12 months)");
    add_make_options(self_app, *self);
    self_app->add_option("--days", self->inputs.days, "Validity in days (default 365)");
    self_app->add_option("--friendly-name", self->friendly_name,
                         "A name stored with the certificate and shown by `cert list`");

    auto import = std::make_shared<cert_import_args>();
    CLI::App* import_app = cert->add_subcommand("import", "Install an issued certificate next to its request's key");
    import_app->add_option("file", import->file, "Certificate: PEM, DER, PKCS#7 (.p7b) or PKCS#12 (.pfx, .p12)")
        ->required();
    import_app->add_option("--key", import->key,
                           "Its private key (PEM), e.g. certbot's privkey.pem, when not made by `cert request` here");
    import_app->add_option("--password-file", import->password_file,
                           "A PKCS#12 file's password: the file's first line (default: ask on the terminal)");
    import_app->add_option("--friendly-name", import->friendly_name,
                           "A name stored with the certificate and shown by `cert list` (default: the PKCS#12 "
                           "file's, or the replaced certificate's)");
    import_app->add_flag("--force", import->force,
                         "Replace a certificate file even when chain certificates it has would be dropped");
    import_app->add_option("--store", import->store, "Certificate store directory (default: current directory)");
    import_app->add_option("--listener", import->listener, "Pin the certificate for this listener of the configuration");
    import_app->add_option("-c,--config", import->config_file, "Configuration defining --listener (default conf.d/dsproxy.yaml)");

    auto exp = std::make_shared<cert_export_args>();
    CLI::App* export_app = cert->add_subcommand(
        "export", "Write a certificate of the store with its chain: PEM, or PKCS#12 with its key (for Windows)");
    export_app->add_option("what", exp->what, "Certificate file in the store, or SHA-1/SHA-256 thumbprint")
        ->required();
    export_app->add_option("--out", exp->out, "The file to write (never overwritten)")->required();
    export_app->add_flag("--pkcs12", exp->pkcs12, "PKCS#12 (.pfx) with the private key, mode 0600");
    export_app->add_option("--password-file", exp->password_file,
                           "The PKCS#12 password: the file's first line (default: ask twice on the terminal)");
    export_app->add_option("--store", exp->stores, "Certificate store directory (repeatable; default: .)");
    export_app->add_flag("--allow-readable-keys", exp->allow_readable_keys, "Accept keys readable by group/others");

    auto list = std::make_shared<cert_list_args>();
    CLI::App* list_app = cert->add_subcommand("list", "List the certificates in the store");
    list_app->add_option("--store", list->stores, "Certificate store directory (repeatable; default: .)");
    list_app->add_option("--domain", list->domain, "Only the candidates for NAME, in selection order");
    list_app->add_option("--fqdn", list->fqdns, "A listener's FQDN: show which certificate it serves (repeatable)");
    list_app->add_option("-c,--config", list->config_file,
                         "Say which listeners of this configuration serve each certificate");
    list_app->add_option("--ca-file", list->ca_file, "Trust anchors for ranking (default: the system's)");
    list_app->add_flag("--allow-readable-keys", list->allow_readable_keys, "Accept keys readable by group/others");

    auto show = std::make_shared<cert_show_args>();
    CLI::App* show_app = cert->add_subcommand("show", "Show one certificate: a file, or a thumbprint in the store");
    show_app->add_option("what", show->what, "Certificate file, or SHA-1/SHA-256 thumbprint")->required();
    show_app->add_option("--store", show->stores, "Certificate store directory (repeatable; default: .)");
    show_app->add_flag("--allow-readable-keys", show->allow_readable_keys, "Accept keys readable by group/others");

    return {cert, [=] {
                if (req_app->parsed()) return run_make(*request, false);
                if (self_app->parsed()) return run_make(*self, true);
                if (import_app->parsed()) return run_import(*import);
                if (export_app->parsed()) return run_cert_export(*exp);
                if (list_app->parsed()) {
                    if (!list->config_file.empty()) {
                        const auto loaded = config::load(list->config_file);
                        if (!loaded.ok()) {
                            for (const auto& d : loaded.errors) std::cerr << config::format(d) << '\n';
                            return exit_usage;
                        }
                        for (const auto& l : loaded.value->listeners) {
                            if (l.tls == config::listener_tls::none) continue;
                            list->servers.emplace_back("listener " + l.name + " (" + l.fqdn + ")",
                                                       engine::listener_certificate_policy(
                                                           l, loaded.value->certificates));
                        }
                    }
                    for (const auto& fqdn : list->fqdns) {
                        tls::selection_policy p;
                        p.fqdn = fqdn;
                        list->servers.emplace_back(fqdn, std::move(p));
                    }
                    return run_cert_list(*list);
                }
                if (show_app->parsed()) return run_cert_show(*show);
                return exit_usage;
            }};
}

}  // namespace dsproxy::cli
