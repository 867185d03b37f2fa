// certificate_inputs — what `dsproxy cert request|selfsigned` was asked for,
// turned into a checked certificate_template (docs/design.md §4.2).
//
// Owns: combining --subject, --fqdn (default CN), --from (clone: subject and
// DNS names copied, never the key), repeatable --domain and the accepted
// domains into one subject and one SAN list, the clone's key type, with every refusal and warning
// of subject_name and san_names collected as sentences.
// The CN, when it is a host name, is also put first in the SAN: peers (and
// dsproxy's own selection) ignore the CN when a SAN is present.
// Must not: generate keys, write files, or read the configuration (the
// accepted domains are passed in; the lead wires them from the config).
#pragma once

#include "tls/certificate_builder.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dsproxy::tls {

struct certificate_inputs {
    std::string subject;                        // --subject text; empty: clone's or CN=fqdn
    std::string fqdn;                           // the listener's fqdn, default CN
    std::vector<std::string> domains;           // --domain, each also a comma-separated list
    std::vector<std::string> accepted_domains;  // added when include_accepted_domains
    bool include_accepted_domains = false;
    std::string from;                           // --from CERT file
    int days = default_validity_days;
};

struct prepared_certificate {
    certificate_template tmpl;
    std::vector<std::string> warnings;
    std::string source_key_type;  // --from: the clone's key type ("ec:p256"), for a default --key-type
};

// On refusal returns nullopt with every reason in `errors`.
std::optional<prepared_certificate> prepare_certificate(const certificate_inputs& in, std::vector<std::string>& errors);

// A file name stem for the outputs: the first DNS name, `*` as "wildcard".
std::string output_stem(const certificate_template& t);

}  // namespace dsproxy::tls
