// fuzz_certificate_names — libFuzzer target for certificate name extraction
// and matching from arbitrary DER (docs/design.md §5, §10).
//
// A peer's certificate is attacker-controlled bytes that reach
// tls::extract_names (SAN dNSNames, iPAddress SANs, subject CNs in any ASN.1
// string type) and tls::describe (thumbprints, RFC 2253 subject and issuer,
// validity, key) before any decision is made. The input is parsed with
// d2i_X509 (byte 0 is kept out of the DER and selects the match options);
// whatever OpenSSL accepts goes through both, then through the matcher
// against fixed references and against each presented name. Invariants:
//   - no crash, no sanitizer report;
//   - describe() lists exactly the names extract_names() found;
//   - thumbprints are 40 and 64 upper-case hex digits;
//   - a match names a presented name that was given and not ignored, with
//     the winning rule in its verdict; an exact match equals the reference;
//   - a valid non-wildcard presented name used as the reference matches
//     itself exactly.
#include "matching/name_matcher.hpp"
#include "tls/certificate_info.hpp"
#include "tls/certificate_names.hpp"
#include "tls/openssl_handles.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace m = dsproxy::matching;
namespace t = dsproxy::tls;

namespace {

// Matching every presented name is quadratic; a few are enough to reach
// every rule.
constexpr std::size_t max_self_references = 8;

bool upper_hex(const std::string& s, std::size_t length) {
    return s.size() == length &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); });
}

bool given(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

m::match_result check_match(const m::reference_name& reference, const m::presented_names& presented,
                            const m::match_options& options) {
    const auto result = m::match(reference, presented, options);
    for (const auto& v : result.names)
        if (v.ignored && v.matched) std::abort();
    if (!result.matched) return result;
    if (!given(presented.dns_names, result.matched_name) && !given(presented.common_names, result.matched_name))
        std::abort();
    bool found = false;
    for (const auto& v : result.names)
        if (v.name == result.matched_name && v.matched == result.how) found = true;
    if (!found) std::abort();
    if (result.how == m::rule::exact) {
        m::canonical_name c;
        m::ignore_reason why{};
        if (!m::canonicalize_presented(result.matched_name, c, why) || c.text != reference.text()) std::abort();
    }
    if (result.how == m::rule::one_node_deep && options.rules != m::rule_set::domain) std::abort();
    return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const m::match_options options{(data[0] & 1) ? m::rule_set::host : m::rule_set::domain,
                                   (data[0] & 2) ? m::cn_fallback::always : m::cn_fallback::no_san};
    const unsigned char* der = data + 1;
    t::x509_ptr cert(d2i_X509(nullptr, &der, static_cast<long>(size - 1)));
    ERR_clear_error();
    if (!cert) return 0;

    const auto names = t::extract_names(*cert);
    const auto info = t::describe(*cert);
    ERR_clear_error();
    if (info.dns_names != names.names.dns_names || info.common_names != names.names.common_names) std::abort();
    if (!upper_hex(info.sha1_thumbprint, 40) || !upper_hex(info.sha256, 64)) std::abort();

    for (const char* fixed : {"contoso.com", "mail.contoso.com", "example.org", "xn--bcher-kva.example"}) {
        const auto reference = m::reference_name::parse(fixed);
        if (!reference) std::abort();
        (void)check_match(*reference, names.names, options);
    }

    std::size_t used = 0;
    for (const auto* list : {&names.names.dns_names, &names.names.common_names}) {
        for (const auto& name : *list) {
            if (used == max_self_references) break;
            m::canonical_name c;
            m::ignore_reason why{};
            if (!m::canonicalize_presented(name, c, why) || c.wildcard) continue;
            const auto reference = m::reference_name::parse(c.text);
            if (!reference) continue;  // e.g. an all-numeric name: not a host name reference
            ++used;
            // Only a SAN is sure to be considered (a CN is ignored under no_san when SANs exist).
            const bool from_san = list == &names.names.dns_names;
            const auto result = check_match(*reference, names.names, options);
            if (from_san && names.names.dns_names.size() <= m::max_presented_names &&
                (!result.matched || result.how != m::rule::exact))
                std::abort();
        }
    }
    return 0;
}
