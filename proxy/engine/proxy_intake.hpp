// proxy_intake — reads the HAProxy PROXY v1/v2 header that a trusted load
// balancer sends before any SMTP, on a listener with `proxy_protocol`
// sources, and says which client the connection is really from.
//
// Owns: the reading of the header off the socket (exactly its bytes, never
// one byte of what follows, so the SMTP session or an implicit-TLS
// handshake starts on a clean stream) under one deadline for the whole
// header. Parsing is protocol::parse (sans-I/O).
// Must not: write to the socket, or trust a header from a peer that is not
// in the listener's `proxy_protocol` list (is_trusted_source decides first).
//
// Threats: the header is attacker-controlled when the balancer is not the
// peer — hence the source check before reading; a slow or silent peer is
// bounded by the deadline; a long one by protocol::max_header_size.
#pragma once

#include "config/address.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace dsproxy::engine {

namespace asio = boost::asio;

struct intake_result {
    bool ok = false;
    asio::ip::tcp::endpoint client;  // the proxied client (or the socket's peer for LOCAL/UNKNOWN)
    asio::ip::tcp::endpoint local;   // the address the client connected to
    std::string version;             // "v1" or "v2", for the log
    std::string error;               // when !ok: why, in plain words
};

// True when `peer` is in one of `sources`.
bool is_trusted_source(const std::vector<config::cidr>& sources, const asio::ip::address& peer);

// Reads one PROXY header from `socket` within `timeout`.
asio::awaitable<intake_result> read_proxy_header(asio::ip::tcp::socket& socket,
                                                 std::chrono::steady_clock::duration timeout);

}  // namespace dsproxy::engine
