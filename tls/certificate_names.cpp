// certificate_names — see certificate_names.hpp.
#include "tls/certificate_names.hpp"

#include "tls/openssl_handles.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace dsproxy::tls {

namespace {

std::string asn1_bytes(const ASN1_STRING* s) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
    const int len = ASN1_STRING_length(ip);
    const unsigned char* data = ASN1_STRING_get0_data(ip);
    char buf[INET6_ADDRSTRLEN] = {};
    if (len == 4 && inet_ntop(AF_INET, data, buf, sizeof buf)) return buf;
    if (len == 16 && inet_ntop(AF_INET6, data, buf, sizeof buf)) return buf;
    return "<malformed IP>";
}

}  // namespace

certificate_names extract_names(const X509& cert) {
    certificate_names out;
    general_names_ptr sans(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(&cert, NID_subject_alt_name, nullptr, nullptr)));
    if (sans) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
            const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
            if (gn->type == GEN_DNS)
                out.names.dns_names.push_back(asn1_bytes(gn->d.dNSName));
            else if (gn->type == GEN_IPADD)
                out.ip_addresses.push_back(ip_text(gn->d.iPAddress));
        }
    }
    const X509_NAME* subject = X509_get_subject_name(&cert);
    for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
        const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
        unsigned char* utf8 = nullptr;
        const int len = ASN1_STRING_to_UTF8(&utf8, data);
        if (len < 0) {
            out.names.common_names.push_back(asn1_bytes(data));
            continue;
        }
        out.names.common_names.emplace_back(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
        OPENSSL_free(utf8);
    }
    return out;
}

std::optional<certificate_names> load_certificate_names(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read certificate file " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

    bio_ptr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    x509_ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        cert.reset(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
    }
    ERR_clear_error();
    if (!cert) {
        error = "no PEM or DER certificate found in " + path;
        return std::nullopt;
    }
    return extract_names(*cert);
}

}  // namespace dsproxy::tls
