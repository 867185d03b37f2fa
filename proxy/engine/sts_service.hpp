// sts_service — a recipient domain's MTA-STS policy at run time (RFC 8461
// §3.3, §5.1; docs/design.md §6.4): the TXT lookup, the cache in memory and
// in the store, the fetch when one is needed, the background refresh.
//
// Owns: the policy store of the snapshot (proxy/store; SQLite or Redis),
// one worker thread that makes every store call (the store blocks, bounded
// by its timeout: never on an I/O thread), the memory copy of the policies
// already read (guarded by a mutex: every I/O thread asks), and the HTTPS
// context of the fetches (the `trust` section: WebPKI).
// The decisions are sts/policy_cache's (decide, after_fetch): this class
// only carries them out. One fetch per domain at a time for a whole fleet:
// the store's claim_fetch; who does not get the claim waits (polling the
// memory copy and the store) at most the fetch deadline, then goes on with
// what is cached. A fetch that fails keeps the cached unexpired policy.
// Every wait is bounded: the TXT and address lookups by the resolver's own
// timeout, the fetch (and the wait for someone else's) by fetch_deadline.
// Must not: decide delivery (mta_sts.hpp, next_hop_attempt), or log: it
// returns what happened, and the caller logs with its session id.
#pragma once

#include "proxy/engine/mta_sts.hpp"
#include "proxy/net/dns_resolver.hpp"
#include "proxy/store/policy_store.hpp"
#include "proxy/sts/policy_cache.hpp"
#include "tls/client_context.hpp"
#include "tls/trust_store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace dsproxy::engine {

namespace asio = boost::asio;

struct sts_service_settings {
    std::chrono::steady_clock::duration fetch_deadline = std::chrono::seconds(10);
    std::uint16_t port = 443;       // of https://mta-sts.<domain>/ (tests only change it)
    std::string owner;              // this instance, in the store's fetch claim
    std::int64_t claim_hold = 60;   // seconds a claim of a fetcher that died blocks others
};

// What one lookup found.
struct sts_lookup {
    sts::sts_outcome outcome;                       // what applies
    sts::cache_action action = sts::cache_action::no_policy;
    bool fetched = false;                           // a fetch ran (here, or by the claim's holder)
    std::string detail;                             // why a fetch failed, or a store problem (for the log)
};

class sts_service : public std::enable_shared_from_this<sts_service> {
public:
    // `store` may be null: policies are then kept in memory only (the log
    // said why at start).
    sts_service(std::unique_ptr<store::policy_store> store, std::shared_ptr<const tls::trust_store> trust,
                tls::client_context https, sts_service_settings settings);
    ~sts_service();
    sts_service(const sts_service&) = delete;
    sts_service& operator=(const sts_service&) = delete;

    // The policy of `domain` (canonical A-label) for a delivery now.
    // `resolver` is the calling thread's; the call resumes on the caller's
    // executor.
    asio::awaitable<sts_lookup> lookup(std::string domain, net::dns_resolver& resolver);

    std::string describe() const;  // the store, for the start-up log
    const tls::trust_store& trust() const noexcept { return *trust_; }

private:
    // Runs `f` on the store's worker thread and resumes on the caller's.
    template <class F>
    asio::awaitable<std::invoke_result_t<F>> on_store(F f);
    asio::awaitable<std::optional<sts::known_policy>> cached(const std::string& domain, std::string& detail);
    asio::awaitable<sts_lookup> fetch(const std::string& domain, const std::string& id,
                                      const std::optional<sts::known_policy>& cached, net::dns_resolver& resolver);
    // The background refresh holds the service itself.
    static asio::awaitable<void> refresh(std::shared_ptr<sts_service> self, std::string domain, std::string id,
                                         std::vector<std::string> addresses);
    void remember(const std::string& domain, const sts::known_policy& p);

    std::unique_ptr<store::policy_store> store_;
    std::shared_ptr<const tls::trust_store> trust_;
    tls::client_context https_;
    sts_service_settings settings_;
    asio::thread_pool worker_{1};
    mutable std::mutex mutex_;  // guards memory_
    std::map<std::string, sts::known_policy, std::less<>> memory_;
};

}  // namespace dsproxy::engine
