// pem_io — see pem_io.hpp.
#include "tls/pem_io.hpp"

#include "tls/file_transaction.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace dsproxy::tls {

namespace {

bio_ptr memory_bio(std::string_view bytes) {
    return bio_ptr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string bio_contents(BIO& bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(&bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::vector<x509_ptr> certificates_of(PKCS7* p7) {
    std::vector<x509_ptr> out;
    if (!p7 || OBJ_obj2nid(p7->type) != NID_pkcs7_signed || !p7->d.sign) return out;
    STACK_OF(X509)* certs = p7->d.sign->cert;
    for (int i = 0; certs && i < sk_X509_num(certs); ++i) {
        X509* c = sk_X509_value(certs, i);
        X509_up_ref(c);
        out.emplace_back(c);
    }
    return out;
}

}  // namespace

std::optional<std::string> read_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::string bytes;
    char buf[8192];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        bytes.append(buf, static_cast<std::size_t>(in.gcount()));
        if (bytes.size() > max_file_size) {
            error = path + " is larger than " + std::to_string(max_file_size) + " bytes";
            return std::nullopt;
        }
    }
    if (in.bad()) {
        error = "cannot read " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    return bytes;
}

std::vector<x509_ptr> parse_certificates(std::string_view bytes) {
    std::vector<x509_ptr> out;
    {
        bio_ptr bio = memory_bio(bytes);
        while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
    }
    if (out.empty()) {
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        if (X509* c = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()))) out.emplace_back(c);
    }
    if (out.empty()) {
        bio_ptr bio = memory_bio(bytes);
        pkcs7_ptr p7(PEM_read_bio_PKCS7(bio.get(), nullptr, nullptr, nullptr));
        if (!p7) {
            const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
            p7.reset(d2i_PKCS7(nullptr, &p, static_cast<long>(bytes.size())));
        }
        out = certificates_of(p7.get());
    }
    ERR_clear_error();  // the failed attempts leave errors behind
    return out;
}

evp_pkey_ptr parse_private_key(std::string_view bytes) {
    bio_ptr bio = memory_bio(bytes);
    // An empty password callback result makes encrypted keys fail instead of prompting.
    evp_pkey_ptr key(PEM_read_bio_PrivateKey(
        bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
    ERR_clear_error();
    return key;
}

bool contains_private_key(std::string_view bytes) {
    return bytes.find("PRIVATE KEY-----") != std::string_view::npos;
}

std::string certificate_pem(X509& cert) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), &cert);
    return bio_contents(*bio);
}

std::string private_key_pem(EVP_PKEY& key) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr, nullptr);
    return bio_contents(*bio);
}

std::string request_pem(X509_REQ& req) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_REQ(bio.get(), &req);
    return bio_contents(*bio);
}

std::string request_der(X509_REQ& req) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    i2d_X509_REQ_bio(bio.get(), &req);
    return bio_contents(*bio);
}

std::string crl_pem(X509_CRL& crl) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_CRL(bio.get(), &crl);
    return bio_contents(*bio);
}

std::string friendly_name_of(std::string_view bytes) {
    const auto first = bytes.find("-----BEGIN CERTIFICATE-----");
    const std::string_view head = bytes.substr(0, first);
    constexpr std::string_view tag = "friendlyName: ";
    const auto at = head.find(tag);
    if (at == std::string_view::npos) return {};
    std::string_view name = head.substr(at + tag.size());
    name = name.substr(0, name.find_first_of("\r\n"));
    return is_valid_friendly_name(name) ? std::string(name) : std::string();
}

std::string friendly_name_block(std::string_view name) {
    return "Bag Attributes\n    friendlyName: " + std::string(name) + "\n";
}

bool is_valid_friendly_name(std::string_view name) {
    if (name.empty() || name.size() > max_friendly_name_chars * 4) return false;
    std::size_t chars = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c < 0x20 || c == 0x7F) return false;
        if (c == 0xC2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) <= 0x9F) return false;
        if ((c & 0xC0) != 0x80) ++chars;
    }
    return chars <= max_friendly_name_chars;
}

bool write_file(const std::string& path, std::string_view bytes, mode_t mode, bool exclusive, std::string& error) {
    file_transaction files;
    return files.stage(path, bytes, mode, exclusive, error) && files.commit(error);
}

}  // namespace dsproxy::tls
