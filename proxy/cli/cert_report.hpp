// cert_report — `dsproxy cert list`, `show` and `export`: what is in the
// certificate store, as Get-ExchangeCertificate prints it, and a certificate
// out of it as Export-ExchangeCertificate writes it (docs/design.md §4.2).
//
// CLI glue only: loading, ranking and describing are tls/'s.
#pragma once

#include "tls/certificate_selection.hpp"

#include <string>
#include <vector>

namespace dsproxy::cli {

struct cert_list_args {
    std::vector<std::string> stores{"."};
    std::string domain;               // --domain: candidates in selection order
    std::vector<std::string> fqdns;   // --fqdn: listener names, to say which would serve a certificate
    std::string config_file;          // -c: the listeners come from this configuration
    // Who would serve a certificate: a label ("mail1.contoso.com", or
    // "listener edge (mail1.contoso.com)") and how it selects (fqdns and -c).
    std::vector<std::pair<std::string, tls::selection_policy>> servers;
    std::string ca_file;              // trust store for ranking; empty: system default
    bool allow_readable_keys = false;
};

struct cert_show_args {
    std::string what;  // a certificate file, or a thumbprint in the store
    std::vector<std::string> stores{"."};
    bool allow_readable_keys = false;
};

struct cert_export_args {
    std::string what;  // a certificate file in the store, or a thumbprint
    std::string out;
    bool pkcs12 = false;
    std::string password_file;
    std::vector<std::string> stores{"."};
    bool allow_readable_keys = false;
};

int run_cert_list(const cert_list_args& args);
int run_cert_show(const cert_show_args& args);
// `dsproxy cert export`: the way back to Windows (Import-ExchangeCertificate
// reads the PKCS#12 file), or the PEM chain for a partner.
int run_cert_export(const cert_export_args& args);

}  // namespace dsproxy::cli
