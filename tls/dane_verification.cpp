// dane_verification — see dane_verification.hpp.
#include "tls/dane_verification.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace dsproxy::tls {

bool enable_dane(SSL_CTX& ctx, std::string& error) {
    if (SSL_CTX_dane_enable(&ctx) <= 0) {
        ERR_clear_error();
        error = "cannot enable DANE on the TLS client context";
        return false;
    }
    return true;
}

bool attach_dane(SSL& ssl, const dane_request& request, std::string& error) {
    if (request.base_domain.empty()) {
        error = "DANE needs the TLSA base domain";
        return false;
    }
    if (SSL_dane_enable(&ssl, request.base_domain.c_str()) <= 0) {
        ERR_clear_error();
        error = "cannot enable DANE for " + request.base_domain;
        return false;
    }
    SSL_dane_set_flags(&ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    for (const auto& name : request.reference_names)
        if (name != request.base_domain && SSL_add1_host(&ssl, name.c_str()) != 1) {
            ERR_clear_error();
            error = "cannot add the reference identifier " + name;
            return false;
        }
    int taken = 0;
    for (const auto& r : request.records)
        // > 0 taken, 0 unusable to OpenSSL (ignored), < 0 malformed (ignored too:
        // another record of the set may still match).
        if (SSL_dane_tlsa_add(&ssl, r.usage, r.selector, r.mtype, r.data.data(), r.data.size()) > 0) ++taken;
    ERR_clear_error();
    if (taken == 0) {
        error = "OpenSSL accepted none of the TLSA records";
        return false;
    }
    return true;
}

dane_result dane_result_of(SSL& ssl) {
    dane_result r;
    const long verify = SSL_get_verify_result(&ssl);
    const int depth = SSL_get0_dane_authority(&ssl, nullptr, nullptr);
    if (verify == X509_V_OK && depth >= 0) {
        r.matched = true;
        r.depth = depth;
        const unsigned char* data = nullptr;
        std::size_t length = 0;
        SSL_get0_dane_tlsa(&ssl, &r.usage, &r.selector, &r.mtype, &data, &length);
        if (const char* name = SSL_get0_peername(&ssl)) r.peer_name = name;
        return r;
    }
    if (!SSL_get0_peer_certificate(&ssl))
        r.reason = "no certificate presented";
    else if (verify != X509_V_OK)
        r.reason = X509_verify_cert_error_string(verify);
    else
        r.reason = "no TLSA record matched";
    return r;
}

}  // namespace dsproxy::tls
