// https_client — one HTTPS request and its response, for the MTA-STS policy
// fetch (RFC 8461 §3.3) and the TLS-RPT report upload (RFC 8460 §5.2).
//
// Owns: the exchange on Asio: connect (net/next_hop_connect), TLS through
// the project's OpenSSL code (tls::client_context, net::tls_socket), the
// server certificate verified against the trust store with an RFC 6125 host
// name check (tls::verify_peer, the same check as for next hops), then
// HTTP/1.1 with Boost.Beast's serializer and parser (Beast as a sans-I/O
// parser fed from tls_socket; no Beast stream).
// Limits, each a named setting with a test that exceeds it
// (tests/net/https_client_test): a total deadline for the whole exchange
// (connect, handshake, request, response), the response header (8 KiB)
// and body (max_body) sizes. Redirects are never followed: every status is
// returned as it is, so the policy fetcher can refuse a 3xx (§3.3).
// Must not: decide what a status or content type means (policy_fetcher and
// the report sender do), log, or retry.
#pragma once

#include "proxy/sts/https_url.hpp"
#include "proxy/sts/policy_cache.hpp"
#include "tls/client_context.hpp"
#include "tls/trust_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace dsproxy::net {

namespace asio = boost::asio;

struct https_request {
    sts::https_url url;
    bool post = false;          // false: GET
    std::string content_type;   // of the POST body
    std::string body;
};

struct https_limits {
    std::chrono::steady_clock::duration deadline = std::chrono::seconds(30);
    std::size_t max_header = 8 * 1024;
    std::size_t max_body = 64 * 1024;
};

struct https_response {
    // none, connect, tls, certificate, too_large (header or body), timeout;
    // http_status / content_type / invalid are the caller's judgements.
    sts::fetch_error error = sts::fetch_error::none;
    std::string detail;        // one sentence when error != none
    unsigned status = 0;
    std::string content_type;  // the Content-Type header as sent
    std::string body;
};

struct https_context {
    const tls::client_context& client;
    const tls::trust_store& trust;
};

// `addresses`: where url.host is (from the project's resolver); empty: an
// IP literal host, or resolved by next_hop_connect.
asio::awaitable<https_response> https_exchange(const https_request& request, const std::vector<std::string>& addresses,
                                               https_context context, https_limits limits);

}  // namespace dsproxy::net
