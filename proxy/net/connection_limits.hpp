// connection_limits — counts open connections, in total and per client
// address, and refuses past the configured maxima (docs/design.md §2: 421 4.7.0 at
// accept time).
//
// Owns: the counters, shared by every I/O thread: one mutex guards them, so
// the total and the per-client counts hold across threads (a client cannot
// get max_connections_per_client on each thread). The critical sections are
// a hash lookup and two increments; the lock is taken once at admission and
// once when a session ends, never while waiting for anything.
// A slot is RAII: a session holds one for its whole life, so a count can
// never leak on an error path, whichever thread the session ends on.
#pragma once

#include "proxy/net/client_rate.hpp"

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace dsproxy::net {

enum class admission { admitted, over_total, over_per_client };

class connection_limits : public std::enable_shared_from_this<connection_limits> {
public:
    connection_limits(std::size_t max_total, std::size_t max_per_client)
        : max_total_(max_total), max_per_client_(max_per_client) {}

    class slot {
    public:
        slot() = default;
        slot(slot&& other) noexcept : owner_(std::move(other.owner_)), address_(other.address_) {}
        slot& operator=(slot&& other) noexcept {
            if (this != &other) {
                reset();
                owner_ = std::move(other.owner_);
                address_ = other.address_;
            }
            return *this;
        }
        ~slot() { reset(); }
        void reset() noexcept {
            if (owner_) owner_->release(address_);
            owner_.reset();
        }
        explicit operator bool() const noexcept { return owner_ != nullptr; }

    private:
        friend class connection_limits;
        slot(std::shared_ptr<connection_limits> owner, boost::asio::ip::address address)
            : owner_(std::move(owner)), address_(address) {}
        std::shared_ptr<connection_limits> owner_;
        boost::asio::ip::address address_;
    };

    // Admits a connection from `client`; when admitted, `out` holds its slot.
    admission try_admit(const boost::asio::ip::address& client, slot& out);

    // New maxima (a reload); connections already admitted keep their slots.
    void set_maxima(std::size_t max_total, std::size_t max_per_client);

    // The per-client rates (docs/design.md §2), shared like the counts: a
    // client's connections and MAIL commands per minute, whichever thread
    // serves them. Settings come with set_maxima's reload.
    client_rate& connection_rate() noexcept { return connection_rate_; }
    client_rate& message_rate() noexcept { return message_rate_; }

    std::size_t total() const;
    std::size_t from(const boost::asio::ip::address& client) const;

private:
    void release(const boost::asio::ip::address& client) noexcept;

    struct address_hash {
        std::size_t operator()(const boost::asio::ip::address& a) const noexcept;
    };
    mutable std::mutex mutex_;  // guards everything below
    std::size_t max_total_;
    std::size_t max_per_client_;
    std::size_t total_ = 0;
    std::unordered_map<boost::asio::ip::address, std::size_t, address_hash> per_client_;
    client_rate connection_rate_{{}};
    client_rate message_rate_{{}};
};

}  // namespace dsproxy::net
