// received_header — the one "Received:" trace header dsproxy adds (RFC 5321
// §4.4, RFC 5322 §3.6.7, protocol names of RFC 3848 and RFC 6531).
//
// Owns: formatting the header from facts handed in: client address, reverse
// name and HELO, the listener's fqdn, the TLS parameters of the client leg,
// whether the sender passed Domain Security, the session id, the date.
// Must not: read the clock (the caller passes the time) or do I/O.
//
// Threats: the HELO name and reverse name are client-controlled; anything but
// printable ASCII, and the comment delimiters "(" ")" "\", is replaced by "?"
// so that a client cannot forge header fields or fold lines.
#pragma once

#include "proxy/smtp/session_types.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace dsproxy::smtp {

struct received_info {
    std::string client_helo;
    std::string client_hostname;  // reverse DNS, verified; empty when unknown
    std::string client_address;   // "192.0.2.1" or "2001:db8::1"
    std::string listener_fqdn;
    std::string session_id;
    bool esmtp = true;
    bool smtputf8 = false;
    std::optional<tls_facts> tls;
    bool domain_secured = false;
    std::string single_recipient;  // "for <...>" only when the message has exactly one
    std::chrono::system_clock::time_point when;
};

// RFC 5322 §3.3 date in UTC: "Tue, 2 Jan 2024 03:04:05 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point when);

// The full header, folded, ending in CRLF.
std::string build_received_header(const received_info& info);

}  // namespace dsproxy::smtp
