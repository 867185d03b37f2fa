// openssl_handles — unique_ptr owners for OpenSSL objects.
//
// Owns: nothing itself; gives every OpenSSL handle in dsproxy a visible owner
// so that no raw free call is needed anywhere else.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
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

inline void free_x509_stack(STACK_OF(X509)* s) noexcept { sk_X509_pop_free(s, X509_free); }
// Frees the stack only: for stacks of borrowed pointers.
inline void free_stack_only(STACK_OF(X509)* s) noexcept { sk_X509_free(s); }
inline void free_crl_stack(STACK_OF(X509_CRL)* s) noexcept { sk_X509_CRL_pop_free(s, X509_CRL_free); }
inline void free_openssl_string(char* s) noexcept { OPENSSL_free(s); }
inline void free_extension_stack(STACK_OF(X509_EXTENSION)* s) noexcept {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
}

using bio_ptr = std::unique_ptr<BIO, openssl_deleter<&BIO_free_all>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<&X509_free>>;
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<&EVP_PKEY_free>>;
using evp_pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, openssl_deleter<&EVP_PKEY_CTX_free>>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, openssl_deleter<&SSL_CTX_free>>;
using ssl_ptr = std::unique_ptr<SSL, openssl_deleter<&SSL_free>>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_deleter<&GENERAL_NAMES_free>>;
using x509_store_ptr = std::unique_ptr<X509_STORE, openssl_deleter<&X509_STORE_free>>;
using x509_store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, openssl_deleter<&X509_STORE_CTX_free>>;
using x509_crl_ptr = std::unique_ptr<X509_CRL, openssl_deleter<&X509_CRL_free>>;
using x509_req_ptr = std::unique_ptr<X509_REQ, openssl_deleter<&X509_REQ_free>>;
using x509_name_ptr = std::unique_ptr<X509_NAME, openssl_deleter<&X509_NAME_free>>;
using x509_extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<&X509_EXTENSION_free>>;
using x509_stack_ptr = std::unique_ptr<STACK_OF(X509), openssl_deleter<&free_x509_stack>>;
using x509_borrowed_stack_ptr = std::unique_ptr<STACK_OF(X509), openssl_deleter<&free_stack_only>>;
using crl_stack_ptr = std::unique_ptr<STACK_OF(X509_CRL), openssl_deleter<&free_crl_stack>>;
using x509_extension_stack_ptr = std::unique_ptr<STACK_OF(X509_EXTENSION), openssl_deleter<&free_extension_stack>>;
using pkcs7_ptr = std::unique_ptr<PKCS7, openssl_deleter<&PKCS7_free>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<&BN_free>>;
using asn1_time_ptr = std::unique_ptr<ASN1_TIME, openssl_deleter<&ASN1_TIME_free>>;
using asn1_integer_ptr = std::unique_ptr<ASN1_INTEGER, openssl_deleter<&ASN1_INTEGER_free>>;
using eku_ptr = std::unique_ptr<EXTENDED_KEY_USAGE, openssl_deleter<&EXTENDED_KEY_USAGE_free>>;
using openssl_string_ptr = std::unique_ptr<char, openssl_deleter<&free_openssl_string>>;

}  // namespace dsproxy::tls
