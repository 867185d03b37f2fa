// openssl_handles — unique_ptr owners for OpenSSL objects.
//
// Owns: nothing itself; gives every OpenSSL handle in dsproxy a visible owner
// so that no raw free call is needed anywhere else.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace dsproxy::tls {

template <auto Free>
struct openssl_deleter {
    template <class T>
    void operator()(T* p) const noexcept { Free(p); }
};

using bio_ptr = std::unique_ptr<BIO, openssl_deleter<&BIO_free_all>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<&X509_free>>;
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<&EVP_PKEY_free>>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, openssl_deleter<&SSL_CTX_free>>;
using ssl_ptr = std::unique_ptr<SSL, openssl_deleter<&SSL_free>>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_deleter<&GENERAL_NAMES_free>>;

}  // namespace dsproxy::tls
