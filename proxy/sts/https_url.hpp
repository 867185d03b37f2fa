// https_url — the `https:` URLs dsproxy itself requests: the MTA-STS policy
// (RFC 8461 §3.3, built from the domain) and a TLS-RPT `rua` collector
// (RFC 8460 §3, read from DNS). Sans-I/O.
//
// Owns: parsing `https://host[:port][/path][?query]` strictly enough that
// the fetcher never has to guess: a DNS host name (canonical, lower case) or
// an IP literal (`[v6]` bracketed), a decimal port 1..65535, an origin-form
// request target. No userinfo (credentials in a DNS record are refused), no
// fragment, only URI characters (RFC 3986 §2).
// Must not: resolve or connect (proxy/net/https_client does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::sts {

struct https_url {
    std::string host;          // A-label DNS name in lower case, or an IP literal without brackets
    std::uint16_t port = 443;
    std::string target = "/";  // origin-form: path and query, starting with "/"

    friend bool operator==(const https_url&, const https_url&) = default;
};

std::optional<https_url> parse_https_url(std::string_view text);

// "https://host[:port]/target" (the port only when it is not 443).
std::string to_string(const https_url& url);

// RFC 3986 §2: unreserved, reserved and "%" HEXDIG HEXDIG; nothing else.
bool is_uri_text(std::string_view text) noexcept;

// Percent-decoding (RFC 3986 §2.1); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace dsproxy::sts
