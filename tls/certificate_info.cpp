// certificate_info — see certificate_info.hpp.
#include "tls/certificate_info.hpp"

#include "tls/certificate_names.hpp"
#include "tls/openssl_handles.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include <cctype>

namespace dsproxy::tls {

namespace {

std::string hex_upper(const unsigned char* data, std::size_t len) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(len * 2);
    for (std::size_t i = 0; i < len; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 0x0f];
    }
    return out;
}

std::string name_text(const X509_NAME* name) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    // RFC 2253 order and escaping, but UTF-8 left as is rather than \XX escaped.
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::time_t to_time(const ASN1_TIME* t) {
    std::tm tm{};
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return timegm(&tm);
}

}  // namespace

std::string key_description::text() const {
    switch (algorithm) {
    case key_algorithm::rsa: return "rsa:" + std::to_string(bits);
    case key_algorithm::ecdsa: {
        std::string c;
        for (char ch : curve)
            if (ch != '-') c += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return "ec:" + (c.empty() ? std::to_string(bits) : c);
    }
    case key_algorithm::other: break;
    }
    return "other(" + curve + ")";
}

key_description describe_key(const EVP_PKEY& key) {
    key_description d;
    d.bits = EVP_PKEY_get_bits(&key);
    if (EVP_PKEY_is_a(&key, "RSA")) {
        d.algorithm = key_algorithm::rsa;
    } else if (EVP_PKEY_is_a(&key, "EC")) {
        d.algorithm = key_algorithm::ecdsa;
        char group[64] = {};
        std::size_t len = 0;
        if (EVP_PKEY_get_utf8_string_param(&key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len)) {
            const int nid = OBJ_txt2nid(group);
            const char* nist = nid != NID_undef ? EC_curve_nid2nist(nid) : nullptr;
            d.curve = nist ? nist : group;
        }
    } else {
        const char* type = EVP_PKEY_get0_type_name(&key);
        d.curve = type ? type : "unknown";
    }
    ERR_clear_error();
    return d;
}

std::string fingerprint(X509& cert, const EVP_MD* md) {
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!X509_digest(&cert, md, buf, &len)) return {};
    return hex_upper(buf, len);
}

certificate_info describe(X509& cert) {
    certificate_info info;
    info.sha1_thumbprint = fingerprint(cert, EVP_sha1());
    info.sha256 = fingerprint(cert, EVP_sha256());
    info.subject = name_text(X509_get_subject_name(&cert));
    info.issuer = name_text(X509_get_issuer_name(&cert));
    auto names = extract_names(cert);
    info.dns_names = std::move(names.names.dns_names);
    info.common_names = std::move(names.names.common_names);
    info.not_before = to_time(X509_get0_notBefore(&cert));
    info.not_after = to_time(X509_get0_notAfter(&cert));
    info.self_signed = X509_self_signed(&cert, 1) == 1;
    info.version = X509_get_version(&cert) + 1;
    if (EVP_PKEY* key = X509_get0_pubkey(&cert)) info.key = describe_key(*key);
    if (const ASN1_INTEGER* serial = X509_get0_serialNumber(&cert)) {
        bignum_ptr bn(ASN1_INTEGER_to_BN(serial, nullptr));
        if (bn) {
            openssl_string_ptr hex(BN_bn2hex(bn.get()));
            if (hex) info.serial = hex.get();
        }
    }
    ERR_clear_error();
    return info;
}

std::string format_utc(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::optional<std::string> normalize_thumbprint(std::string_view text) {
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == ':' || c == ' ') continue;
        if (!std::isxdigit(u)) return std::nullopt;
        out += static_cast<char>(std::toupper(u));
    }
    if (out.size() != 40 && out.size() != 64) return std::nullopt;
    return out;
}

}  // namespace dsproxy::tls
