// capabilities — what an upstream announced in its EHLO reply (RFC 5321 §4.1.1.1).
//
// Owns: turning EHLO reply lines into the set of extensions client_session
// relies on (PIPELINING, SIZE, 8BITMIME, SMTPUTF8, CHUNKING, BINARYMIME, DSN,
// STARTTLS, ENHANCEDSTATUSCODES, XCLIENT and its attribute list). Must not:
// decide what to send (client_session does).
#pragma once

#include "proxy/smtp/reply.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::smtp {

struct capabilities {
    bool pipelining = false;
    bool eight_bit_mime = false;
    bool smtputf8 = false;
    bool chunking = false;
    bool binary_mime = false;
    bool dsn = false;
    bool starttls = false;
    bool enhanced_status_codes = false;
    std::optional<std::uint64_t> size;  // SIZE advertised; 0 means no fixed limit
    bool xclient = false;
    std::vector<std::string> xclient_attributes;  // upper case, e.g. ADDR, NAME, HELO

    bool xclient_supports(std::string_view attribute) const;
};

// Keywords are case-insensitive; unknown ones are ignored; the first line
// (the greeting "name text") is skipped.
capabilities parse_ehlo_reply(const reply& ehlo);

}  // namespace dsproxy::smtp
