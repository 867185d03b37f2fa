// dns_resolver — asynchronous, DNSSEC-validating DNS lookups on Asio, with
// libunbound (RFC 4033-4035 validation in process, RFC 7672 §2.1 statuses).
//
// Owns: one libunbound context (its cache, its background worker thread,
// its trust anchors and forwarders), the Asio descriptor that watches the
// context's result pipe (ub_fd -> async_wait -> ub_process), one deadline
// timer per lookup, and the lookups in flight.
// Must not: block the event loop (libunbound resolves on its own worker
// thread; this side only reads finished results), close the pipe it watches
// (libunbound owns it: the descriptor is released before the context is
// deleted), consult /etc/hosts or search domains (absolute names only),
// decide routes (proxy/routing does) or DANE (proxy/dane does), or be used
// from two threads: one resolver per I/O thread and configuration snapshot,
// called from that thread's executor only.
//
// Errors are values: every lookup completes exactly once with a
// routing::dns_status and the answer's DNSSEC state, including timeout (the
// resolver's own per-lookup bound, dns_timeout x dns_tries), cancellation
// (the caller's `||` deadline: ub_cancel, whose callback never runs), and
// the resolver's destruction. Nothing throws after create().
//
// Threats: answers come from the network. libunbound parses and validates
// them; we take at most max_records_per_answer records from one answer and
// decode RDATA with bounds checks (proxy/routing/dns_rdata).
#pragma once

#include "proxy/routing/dns_answer.hpp"
#include "proxy/routing/next_hop.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::net {

namespace asio = boost::asio;

// Records taken from one answer; the rest are ignored. 64 is far above any
// sane MX set or round-robin A set, and far below a 64 KiB TCP answer.
inline constexpr std::size_t max_records_per_answer = 64;

// Debian's copy of the root zone's trust anchor (package dns-root-data).
inline constexpr const char* default_root_anchor = "/usr/share/dns/root.key";

struct resolver_settings {
    // Forwarders, "IP", "IP:PORT" or "[IPv6]:PORT". Empty: the nameservers
    // of /etc/resolv.conf (full recursion from the root when it lists none).
    std::vector<std::string> servers;
    // One lookup (one name and type, with the DNSSEC records validation
    // needs and libunbound's own retries and fail-over between servers) ends
    // as a timeout after timeout x tries.
    std::chrono::milliseconds timeout{5000};
    int tries = 2;
    // Files of DS or DNSKEY records in zone-file syntax. Empty: no DNSSEC
    // validation, every answer is insecure (DANE never applies).
    std::vector<std::string> trust_anchors{default_root_anchor};
};

// The check of start-up and reload: the settings parse and every trust
// anchor file loads into a validator. A sentence naming the problem, or
// nullopt. Reads the files; sends no query.
std::optional<std::string> check_resolver_settings(const resolver_settings& settings);

class dns_resolver {
public:
    // Returns nullptr and sets `error` when libunbound cannot be set up with
    // `settings` (bad server address, unreadable trust anchor).
    static std::unique_ptr<dns_resolver> create(const asio::any_io_executor& executor,
                                                const resolver_settings& settings, std::string& error);
    // Pending lookups complete with dns_status::cancelled.
    ~dns_resolver();
    dns_resolver(const dns_resolver&) = delete;
    dns_resolver& operator=(const dns_resolver&) = delete;

    // MX records of `domain` (absolute name, no search list).
    asio::awaitable<routing::mx_answer> query_mx(std::string domain);
    // A and/or AAAA of `host` (only the families asked), queried in
    // parallel and combined with routing::combine_families. An IP literal
    // is returned as is.
    asio::awaitable<routing::address_answer> resolve_host(std::string host,
                                                         routing::family_set families = routing::family_set::both);
    // TLSA records (RFC 6698) at `name` ("_25._tcp.mx.example.com"), raw.
    asio::awaitable<routing::rdata_answer> query_tlsa(std::string name);
    // TXT records at `name` (MTA-STS: "_mta-sts.example.com"), raw; decode
    // with routing::decode_txt.
    asio::awaitable<routing::rdata_answer> query_txt(std::string name);

    // The servers asked, "127.0.0.1:5353,...", and whether answers are
    // validated, for the start-up log.
    std::string describe() const;

    class core;  // libunbound glue, in dns_resolver.cpp

private:
    explicit dns_resolver(std::shared_ptr<core> core) : core_(std::move(core)) {}
    std::shared_ptr<core> core_;
};

}  // namespace dsproxy::net
