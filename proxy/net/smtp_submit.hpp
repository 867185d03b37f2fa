// smtp_submit — hands one message dsproxy wrote itself (a TLS report,
// RFC 8460 §5.3) to dsproxy's own outbound listener, so that it leaves
// through the same path, policy and log as relayed mail.
//
// Owns: one plain SMTP transaction on loopback: greeting, EHLO, MAIL, RCPT,
// DATA with the message dot-stuffed (RFC 5321 §4.5.2), QUIT; replies read
// with smtp::reply_parser. One deadline for the whole exchange.
// Must not: route, retry, or use TLS (the listener is ours, on loopback;
// the outbound leg beyond it applies the destination's policy).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace dsproxy::net {

namespace asio = boost::asio;

struct submission {
    std::string host;  // the outbound listener's address (IP literal)
    std::uint16_t port = 0;
    std::string helo;  // our name
    std::string from;  // envelope sender
    std::string to;    // envelope recipient
    std::string message;  // CRLF lines, not dot-stuffed
};

struct submission_result {
    bool accepted = false;
    std::string reply;  // the last reply's first line, or what failed
};

asio::awaitable<submission_result> submit_message(const submission& s, std::chrono::steady_clock::duration deadline);

}  // namespace dsproxy::net
