// client_certificate_choice — see client_certificate_choice.hpp.
#include "tls/client_certificate_choice.hpp"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

namespace dsproxy::tls {

std::string extended_key_usage_text(X509& cert) {
    auto* usages = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(&cert, NID_ext_key_usage, nullptr, nullptr));
    if (usages == nullptr) {
        ERR_clear_error();
        return "absent (any use)";
    }
    std::string out;
    for (int i = 0; i < sk_ASN1_OBJECT_num(usages); ++i) {
        const ASN1_OBJECT* o = sk_ASN1_OBJECT_value(usages, i);
        const int nid = OBJ_obj2nid(o);
        std::string name;
        if (nid != NID_undef) {
            name = OBJ_nid2sn(nid);
        } else {
            char buf[80];
            OBJ_obj2txt(buf, sizeof buf, o, 1);
            name = buf;
        }
        out += (out.empty() ? "" : ",") + name;
    }
    sk_ASN1_OBJECT_pop_free(usages, ASN1_OBJECT_free);
    return out.empty() ? "empty" : out;
}

client_certificate_choice choose_client_certificate(const certificate_store& store, selection_policy policy,
                                                    std::string_view needed_by, std::time_t now) {
    policy.use = certificate_use::client;
    const selection chosen = select_certificate(store, policy, {}, now);
    if (chosen) return {chosen.cert, {}};
    // What would have been chosen, were the extended key usage not checked.
    selection_policy as_server = policy;
    as_server.use = certificate_use::server;
    const selection other = select_certificate(store, as_server, {}, now);
    std::string problem = std::string(needed_by) + " needs a client certificate";
    if (other && !other.cert->client_auth) {
        problem += ", and certificate sha256=" + other.cert->info.sha256 + " subject=\"" + other.cert->info.subject +
                   "\" (" + other.cert->certificate_path + ") cannot be one: its extendedKeyUsage is " +
                   extended_key_usage_text(*other.cert->certificate) +
                   ", without clientAuth; use a certificate whose extendedKeyUsage includes clientAuth, or add one "
                   "as certificates.files with client_only: true";
    } else {
        problem += ": " + chosen.reason;
    }
    return {nullptr, std::move(problem)};
}

}  // namespace dsproxy::tls
