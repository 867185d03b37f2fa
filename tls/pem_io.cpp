// pem_io — see pem_io.hpp.
#include "tls/pem_io.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

bool write_file(const std::string& path, std::string_view bytes, mode_t mode, bool exclusive, std::string& error) {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
    const int fd = ::open(path.c_str(), flags, mode);
    if (fd < 0) {
        error = (errno == EEXIST ? path + " already exists; not overwritten"
                                 : "cannot write " + path + ": " + std::strerror(errno));
        return false;
    }
    // The umask may have narrowed the mode, and an existing file keeps its
    // old one: set it explicitly (still before any byte is written).
    bool ok = ::fchmod(fd, mode) == 0;
    std::size_t done = 0;
    while (ok && done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false; else done += static_cast<std::size_t>(n);
    }
    if (!ok) error = "cannot write " + path + ": " + std::strerror(errno);
    if (::close(fd) != 0 && ok) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        ok = false;
    }
    return ok;
}

}  // namespace dsproxy::tls
