// dane_verification — RFC 7672 DANE authentication of a next hop with
// OpenSSL's own DANE code (SSL_dane_enable, SSL_dane_tlsa_add,
// SSL_get0_dane_authority; RFC 7671 semantics), docs/design.md §6.4.
//
// Owns: attaching one host's usable TLSA records and reference identifiers
// to a client SSL before its handshake, and reading back after it whether a
// record matched, which one, at which depth, or why none did.
// Must not: decide which records are usable or whether DANE applies
// (proxy/dane does, sans-I/O), abort a handshake (the verify callback
// accepts any chain: collect, then decide, docs/design.md §3), or log.
//
// RFC 7672 §3.1.1: a DANE-EE(3) match authenticates the key alone: names
// and validity dates are not checked (DANE_FLAG_NO_DANE_EE_NAMECHECKS;
// OpenSSL skips the chain checks for a leaf matched by DANE-EE). §3.1.2:
// a DANE-TA(2) match still needs a valid chain to the matched anchor and a
// leaf name among the reference identifiers (§3.2.2).
#pragma once

#include "tls/openssl_handles.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace dsproxy::tls {

// One TLSA record as OpenSSL takes it (already judged usable by proxy/dane).
struct dane_tlsa {
    std::uint8_t usage = 3;
    std::uint8_t selector = 1;
    std::uint8_t mtype = 1;
    std::vector<unsigned char> data;
};

struct dane_request {
    // The TLSA base domain (RFC 7672 §2.2.3): the SNI (§8.1) and the first
    // reference identifier.
    std::string base_domain;
    // Further names a DANE-TA chain's leaf may match (§3.2.2: the MX host,
    // the next-hop domain); the base domain need not be repeated.
    std::vector<std::string> reference_names;
    std::vector<dane_tlsa> records;  // any of them may match
};

// SSL_CTX_dane_enable on a client context (done by client_context::create).
bool enable_dane(SSL_CTX& ctx, std::string& error);

// Before the handshake. False with a sentence in `error` when OpenSSL takes
// none of the records (then the host cannot be authenticated: fail it).
bool attach_dane(SSL& ssl, const dane_request& request, std::string& error);

struct dane_result {
    bool matched = false;
    int depth = -1;             // of the matched certificate: 0 is the peer's own
    std::uint8_t usage = 0, selector = 0, mtype = 0;  // the matched record
    std::string peer_name;      // DANE-TA: the reference identifier the leaf matched
    std::string reason;         // !matched: OpenSSL's verification error, in its words
};

// After the handshake, on an SSL given attach_dane.
dane_result dane_result_of(SSL& ssl);

}  // namespace dsproxy::tls
