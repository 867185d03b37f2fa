// certificate_builder — see certificate_builder.hpp.
#include "tls/certificate_builder.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>
#include <utility>

namespace dsproxy::tls {

namespace {

constexpr std::array<std::pair<std::string_view, int>, 7> rdn_nids{{
    {"C", NID_countryName}, {"ST", NID_stateOrProvinceName}, {"L", NID_localityName},
    {"O", NID_organizationName}, {"OU", NID_organizationalUnitName}, {"CN", NID_commonName},
    {"DC", NID_domainComponent},
}};

std::string openssl_error(std::string_view what) {
    std::string out(what);
    if (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += ": ";
        out += buf;
    }
    ERR_clear_error();
    return out;
}

// The extensions dsproxy puts in requests and self-signed certificates.
std::vector<x509_extension_ptr> leaf_extensions(const certificate_template& t, EVP_PKEY& key, X509V3_CTX* ctx) {
    std::vector<std::pair<int, std::string>> wanted;
    if (!t.dns_names.empty()) {
        std::string san;
        for (const auto& n : t.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
        wanted.emplace_back(NID_subject_alt_name, san);
    }
    wanted.emplace_back(NID_key_usage, EVP_PKEY_is_a(&key, "RSA") ? "critical,digitalSignature,keyEncipherment"
                                                                  : "critical,digitalSignature");
    wanted.emplace_back(NID_ext_key_usage, "serverAuth,clientAuth");
    wanted.emplace_back(NID_basic_constraints, "critical,CA:FALSE");
    std::vector<x509_extension_ptr> out;
    for (const auto& [nid, value] : wanted) {
        x509_extension_ptr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
        if (!ext) return {};
        out.push_back(std::move(ext));
    }
    return out;
}

bool set_random_serial(X509& cert) {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
    bytes[0] &= 0x7f;  // positive
    bytes[0] |= 0x40;  // and a full 16 octets
    bignum_ptr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
    return bn && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(&cert));
}

}  // namespace

std::optional<key_spec> key_spec::parse(std::string_view text) {
    if (text == "rsa:2048") return key_spec{key_algorithm::rsa, 2048, {}};
    if (text == "rsa:3072") return key_spec{key_algorithm::rsa, 3072, {}};
    if (text == "rsa:4096") return key_spec{key_algorithm::rsa, 4096, {}};
    if (text == "ec:p256") return key_spec{key_algorithm::ecdsa, 256, "P-256"};
    if (text == "ec:p384") return key_spec{key_algorithm::ecdsa, 384, "P-384"};
    return std::nullopt;
}

evp_pkey_ptr generate_key(const key_spec& spec) {
    evp_pkey_ptr key;
    if (spec.algorithm == key_algorithm::rsa)
        key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(spec.bits)));
    else if (spec.algorithm == key_algorithm::ecdsa)
        key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", spec.curve.c_str()));
    ERR_clear_error();
    return key;
}

x509_name_ptr make_name(const subject_rdns& subject, std::string& error) {
    x509_name_ptr name(X509_NAME_new());
    for (const auto& r : subject) {
        int nid = NID_undef;
        for (const auto& [type, n] : rdn_nids)
            if (type == r.type) nid = n;
        const auto* bytes = reinterpret_cast<const unsigned char*>(r.value.data());
        if (nid == NID_undef ||
            !X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8, bytes, static_cast<int>(r.value.size()), -1, 0)) {
            error = openssl_error("cannot encode " + r.type + "=" + r.value);
            return nullptr;
        }
    }
    return name;
}

x509_req_ptr build_request(const certificate_template& t, EVP_PKEY& key, std::string& error) {
    x509_req_ptr req(X509_REQ_new());
    x509_name_ptr name = make_name(t.subject, error);
    if (!name) return nullptr;
    if (!X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) || !X509_REQ_set_subject_name(req.get(), name.get()) ||
        !X509_REQ_set_pubkey(req.get(), &key)) {
        error = openssl_error("cannot build the request");
        return nullptr;
    }
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
    auto exts = leaf_extensions(t, key, &ctx);
    x509_extension_stack_ptr stack(sk_X509_EXTENSION_new_null());
    for (auto& e : exts) sk_X509_EXTENSION_push(stack.get(), e.release());
    if (exts.empty() || !X509_REQ_add_extensions(req.get(), stack.get()) ||
        !X509_REQ_sign(req.get(), &key, EVP_sha256())) {
        error = openssl_error("cannot sign the request");
        return nullptr;
    }
    return req;
}

x509_ptr build_self_signed(const certificate_template& t, EVP_PKEY& key, std::string& error) {
    x509_ptr cert(X509_new());
    x509_name_ptr name = make_name(t.subject, error);
    if (!name) return nullptr;
    if (!X509_set_version(cert.get(), X509_VERSION_3) || !set_random_serial(*cert) ||
        !X509_set_subject_name(cert.get(), name.get()) || !X509_set_issuer_name(cert.get(), name.get()) ||
        !X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) ||
        !X509_time_adj_ex(X509_getm_notAfter(cert.get()), t.days, 0, nullptr) ||
        !X509_set_pubkey(cert.get(), &key)) {
        error = openssl_error("cannot build the certificate");
        return nullptr;
    }
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    auto exts = leaf_extensions(t, key, &ctx);
    x509_extension_ptr ski(X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_key_identifier, "hash"));
    if (exts.empty() || !ski) {
        error = openssl_error("cannot build the certificate extensions");
        return nullptr;
    }
    exts.push_back(std::move(ski));
    for (auto& e : exts)
        if (!X509_add_ext(cert.get(), e.get(), -1)) {
            error = openssl_error("cannot add a certificate extension");
            return nullptr;
        }
    if (!X509_sign(cert.get(), &key, EVP_sha256())) {
        error = openssl_error("cannot sign the certificate");
        return nullptr;
    }
    return cert;
}

subject_rdns subject_of(X509& cert, std::vector<std::string>& skipped) {
    subject_rdns out;
    const X509_NAME* name = X509_get_subject_name(&cert);
    for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
        const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
        const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
        std::string_view type;
        for (const auto& [t, n] : rdn_nids)
            if (n == nid) type = t;
        unsigned char* utf8 = nullptr;
        const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
        std::string value = len >= 0 ? std::string(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len)) : "";
        OPENSSL_free(utf8);
        if (type.empty() || len < 0) {
            skipped.push_back(std::string(OBJ_nid2sn(nid)) + "=" + value);
            continue;
        }
        out.push_back({std::string(type), std::move(value)});
    }
    ERR_clear_error();
    return out;
}

}  // namespace dsproxy::tls
