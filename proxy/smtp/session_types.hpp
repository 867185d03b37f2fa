// session_types — the vocabulary shared by server_session, client_session and
// the engine that connects them: TLS facts of a leg, upstream stages, how the
// message body travels.
//
// Owns: plain data only. Must not: include anything beyond the standard library.
#pragma once

#include <string>

namespace dsproxy::smtp {

// What the engine learned from a finished TLS handshake on the client leg;
// recorded in the Received header and offered to the sender policy (§6.2).
struct tls_facts {
    std::string protocol;                  // "TLSv1.3"
    std::string cipher;                    // "TLS_AES_256_GCM_SHA384"
    int cipher_bits = 0;
    bool client_certificate_presented = false;
    bool client_certificate_verified = false;  // chain verified (names are the policy's business)
};

// A step of the upstream transaction whose reply the server session waits for.
enum class upstream_stage {
    mail,         // the upstream transaction opened (connect, EHLO, TLS, XCLIENT, MAIL)
    rcpt,         // one RCPT
    data,         // ready for content: 354 to DATA (synthesised for BDAT upstreams)
    bdat_chunk,   // a non-final BDAT chunk was taken
    end_of_data,  // the final reply for the message
};

std::string_view to_string(upstream_stage s) noexcept;

// How the client sends the message, which decides how the upstream gets it.
enum class data_mode {
    data,  // DATA: dot-stuffed wire bytes, relayed as DATA byte for byte
    bdat,  // BDAT: raw chunks, relayed as BDAT, or as DATA with dot-stuffing
};

}  // namespace dsproxy::smtp
