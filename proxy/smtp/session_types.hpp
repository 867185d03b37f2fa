// session_types — the vocabulary shared by server_session, client_session and
// the engine that connects them: TLS facts of a leg, upstream stages, how the
// message body travels.
//
// Owns: plain data only. Must not: include anything beyond the standard library.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::smtp {

// The negotiated protocol version as a value (the policy's min_tls compares it).
enum class tls_version { other, tls1_2, tls1_3 };

// One check of the client certificate's chain against one trust store.
struct chain_check {
    bool verified = false;
    std::string problem;  // the first problem, in words, when !verified (peer bytes: escape to log)
    std::string label;    // its metrics label: "untrusted", "expired", ...
};

// The client_tls record: what the engine learned from a finished TLS
// handshake on the client leg, collected once there; recorded in the
// Received header and the only input the sender policy (docs/design.md §6.2) judges.
struct tls_facts {
    std::string protocol;                  // "TLSv1.3", for the log and the Received header
    std::string cipher;                    // "TLS_AES_256_GCM_SHA384"
    int cipher_bits = 0;
    bool client_certificate_presented = false;
    bool client_certificate_verified = false;  // chains[0] (the global trust): names are the policy's business
    tls_version version = tls_version::other;
    // The client certificate: its names (SAN dNSNames, subject CNs, byte for
    // byte), its identity for the log, and one chain check per trust store
    // the session's policies use (chains[i] against the front session's
    // client_trusts[i]; [0] is the global trust).
    std::vector<std::string> dns_names{}, common_names{};
    std::string subject{}, issuer{}, sha256{};
    std::vector<chain_check> chains{};
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

// Why an upstream connection ended before it was usable, or broke later: the
// value every decision about a next hop is taken on (retry in plain text, try
// the next host, refuse under the TLS policy). The text beside it is for the
// log only; no code reads it to learn what happened.
enum class failure_kind {
    connect,           // no TCP connection (no address, refused, unreachable, timed out, PROXY header)
    greeting,          // the banner was not 220
    starttls_missing,  // TLS required, STARTTLS not in the EHLO reply
    starttls_refused,  // STARTTLS answered with an error (TLS required), or its 220 followed by plaintext
    handshake,         // the TLS handshake failed (or could not be set up)
    certificate,       // the handshake worked, the policy's certificate checks did not
    protocol,          // a reply out of order or malformed, HELO/XCLIENT/RSET refused, too much unsolicited data
    closed,            // the upstream closed the connection
    timeout,           // a reply did not come in time
};

constexpr std::string_view to_string(failure_kind k) noexcept {
    switch (k) {
    case failure_kind::connect: return "connect";
    case failure_kind::greeting: return "greeting";
    case failure_kind::starttls_missing: return "starttls_missing";
    case failure_kind::starttls_refused: return "starttls_refused";
    case failure_kind::handshake: return "handshake";
    case failure_kind::certificate: return "certificate";
    case failure_kind::protocol: return "protocol";
    case failure_kind::closed: return "closed";
    case failure_kind::timeout: return "timeout";
    }
    return "unknown";
}

// One upstream failure: the kind decides, the text is logged.
struct upstream_failure {
    failure_kind kind = failure_kind::protocol;
    std::string text;
};

// How the client sends the message, which decides how the upstream gets it.
enum class data_mode {
    data,  // DATA: dot-stuffed wire bytes, relayed as DATA byte for byte
    bdat,  // BDAT: raw chunks, relayed as BDAT, or as DATA with dot-stuffing
};

}  // namespace dsproxy::smtp
