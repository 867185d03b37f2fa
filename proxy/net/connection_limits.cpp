// connection_limits — see connection_limits.hpp.
#include "proxy/net/connection_limits.hpp"

#include <functional>

namespace dsproxy::net {

std::size_t connection_limits::address_hash::operator()(const boost::asio::ip::address& a) const noexcept {
    if (a.is_v4()) return std::hash<std::uint32_t>{}(a.to_v4().to_uint());
    const auto bytes = a.to_v6().to_bytes();
    std::size_t h = 1469598103934665603ULL;
    for (unsigned char b : bytes) h = (h ^ b) * 1099511628211ULL;
    return h;
}

admission connection_limits::try_admit(const boost::asio::ip::address& client, slot& out) {
    {
        const std::lock_guard lock(mutex_);
        if (total_ >= max_total_) return admission::over_total;
        auto& count = per_client_[client];
        if (count >= max_per_client_) {
            if (count == 0) per_client_.erase(client);
            return admission::over_per_client;
        }
        ++count;
        ++total_;
    }
    // Outside the lock: assigning to `out` may release the slot it held.
    out = slot(shared_from_this(), client);
    return admission::admitted;
}

void connection_limits::set_maxima(std::size_t max_total, std::size_t max_per_client) {
    const std::lock_guard lock(mutex_);
    max_total_ = max_total;
    max_per_client_ = max_per_client;
}

std::size_t connection_limits::total() const {
    const std::lock_guard lock(mutex_);
    return total_;
}

std::size_t connection_limits::from(const boost::asio::ip::address& client) const {
    const std::lock_guard lock(mutex_);
    const auto it = per_client_.find(client);
    return it == per_client_.end() ? 0 : it->second;
}

void connection_limits::release(const boost::asio::ip::address& client) noexcept {
    const std::lock_guard lock(mutex_);
    const auto it = per_client_.find(client);
    if (it == per_client_.end()) return;
    if (--it->second == 0) per_client_.erase(it);
    --total_;
}

}  // namespace dsproxy::net
