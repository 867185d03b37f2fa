// client_rate — events per minute per client network, for the rate limits
// `connection_rate_per_client` and `message_rate_per_client` (docs/design.md
// §2), as Postfix's anvil counts them.
//
// Owns: one theoretical arrival time per client network (the generic cell
// rate algorithm): with a limit of N per minute, events are spaced 60/N s
// apart in the long run and a burst of N is allowed, so a client that keeps
// to N per minute is never refused and one that exceeds it is refused until
// its average is back under. A network is the client address with its host
// bits cleared (`/32` and `/64` by default: an IPv6 client usually owns its
// whole /64). Entries whose client has been quiet long enough to have its
// whole burst again are dropped, so memory follows the clients that are
// actually sending fast; at most `max_tracked` networks are held, and past
// that new networks are not limited (a flood from many addresses is for
// max_connections).
// Thread-safe: one mutex, held for a hash lookup; the clock is the caller's,
// so the tests drive it.
// Must not: decide the reply (the server and the session do).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <array>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dsproxy::net {

class client_rate {
public:
    using clock = std::chrono::steady_clock;

    struct settings {
        std::uint64_t per_minute = 0;  // 0: no limit
        unsigned ipv4_prefix = 32;
        unsigned ipv6_prefix = 64;
        friend bool operator==(const settings&, const settings&) = default;
    };

    explicit client_rate(settings s, std::size_t max_tracked = 100000) : settings_(s), max_tracked_(max_tracked) {}

    // Counts one event from `client` at `now`; false when its network is over
    // the limit (the event is then not counted).
    bool try_count(const boost::asio::ip::address& client, clock::time_point now);

    // New settings (a reload): what was counted under the old ones is forgotten.
    void set(settings s);
    settings current() const;
    std::size_t tracked() const;

    // The network `client` is counted in: "192.0.2.7/32", "2001:db8:1:2::/64".
    static std::string network_of(const boost::asio::ip::address& client, const settings& s);

private:
    using key = std::array<unsigned char, 17>;  // family byte + the masked address
    struct key_hash {
        std::size_t operator()(const key& k) const noexcept;
    };
    static key key_of(const boost::asio::ip::address& client, const settings& s);
    void prune(clock::time_point now);

    mutable std::mutex mutex_;  // guards everything below
    settings settings_;
    std::size_t max_tracked_;
    std::unordered_map<key, clock::time_point, key_hash> next_;  // theoretical arrival time per network
    clock::time_point last_prune_{};
};

}  // namespace dsproxy::net
