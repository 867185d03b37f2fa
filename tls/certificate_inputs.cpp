// certificate_inputs — see certificate_inputs.hpp.
#include "tls/certificate_inputs.hpp"

#include "tls/certificate_info.hpp"
#include "tls/pem_io.hpp"
#include "tls/san_names.hpp"

#include <algorithm>

namespace dsproxy::tls {

std::optional<prepared_certificate> prepare_certificate(const certificate_inputs& in, std::vector<std::string>& errors) {
    prepared_certificate out;
    out.tmpl.days = in.days;
    if (in.days < 1 || in.days > 3650) errors.push_back("--days must be between 1 and 3650");

    std::vector<std::string> cloned_names;
    if (!in.from.empty()) {
        std::string error;
        auto bytes = read_file(in.from, error);
        auto certs = bytes ? parse_certificates(*bytes) : std::vector<x509_ptr>{};
        if (!bytes) errors.push_back(error);
        else if (certs.empty()) errors.push_back("no certificate in " + in.from);
        else {
            std::vector<std::string> skipped;
            out.tmpl.subject = subject_of(*certs.front(), skipped);
            for (const auto& s : skipped) out.warnings.push_back("--from: subject attribute " + s + " not copied");
            const auto info = describe(*certs.front());
            cloned_names = info.dns_names;
            out.source_key_type = info.key.text();
        }
    }
    if (!in.subject.empty()) {
        std::string error;
        auto parsed = parse_subject(in.subject, error);
        if (!parsed) errors.push_back(error);
        else out.tmpl.subject = std::move(*parsed);
    } else if (in.from.empty()) {
        if (in.fqdn.empty()) errors.push_back("give --subject, --fqdn (the listener's name, used as CN) or --from");
        else out.tmpl.subject = {{"CN", in.fqdn}};
    }
    const auto findings = validate_subject(out.tmpl.subject);
    errors.insert(errors.end(), findings.errors.begin(), findings.errors.end());
    out.warnings.insert(out.warnings.end(), findings.warnings.begin(), findings.warnings.end());

    auto add = [&](const std::string& name, const char* source) {
        std::string error;
        auto n = normalize_san_name(name, error);
        if (n) add_unique_name(out.tmpl.dns_names, std::move(*n));
        else errors.push_back(std::string(source) + ": " + error);
    };
    for (const auto& r : out.tmpl.subject) {
        std::string ignored;
        // Only an ASCII CN: a Unicode look-alike (the seed's 'ï') must not
        // become a real DNS name behind the administrator's back.
        const bool ascii = std::all_of(r.value.begin(), r.value.end(),
                                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
        if (r.type == "CN" && ascii)
            if (auto n = normalize_san_name(r.value, ignored); n && r.value.find('.') != std::string::npos)
                add_unique_name(out.tmpl.dns_names, std::move(*n));
    }
    for (const auto& n : cloned_names) add(n, "--from");
    // Exchange's list syntax (-DomainName a,b) as well as a repeated --domain.
    for (const auto& list : in.domains) {
        std::size_t start = 0;
        while (start <= list.size()) {
            const auto comma = std::min(list.find(',', start), list.size());
            std::string n = list.substr(start, comma - start);
            n.erase(0, n.find_first_not_of(' '));
            n.erase(n.find_last_not_of(' ') + 1);
            if (!n.empty()) add(n, "--domain");
            start = comma + 1;
        }
    }
    if (in.include_accepted_domains) {
        if (in.accepted_domains.empty())
            errors.push_back("--include-accepted-domains: no accepted domain given (--accepted-domain NAME)");
        for (const auto& n : in.accepted_domains) add(n, "accepted domain");
    }
    if (out.tmpl.dns_names.empty() && errors.empty())
        errors.push_back("the certificate would hold no DNS name: give --domain, or a CN that is a host name");
    if (!errors.empty()) return std::nullopt;
    return out;
}

std::string output_stem(const certificate_template& t) {
    if (t.dns_names.empty()) return "certificate";
    std::string stem = t.dns_names.front();
    if (stem.rfind("*.", 0) == 0) stem = "wildcard." + stem.substr(2);
    return stem;
}

}  // namespace dsproxy::tls
