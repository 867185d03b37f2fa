// client_rate — see client_rate.hpp.
#include "proxy/net/client_rate.hpp"

#include <array>

namespace dsproxy::net {

namespace {

// The part of `bytes` under a prefix of `bits`: the rest zeroed.
template <std::size_t N>
void mask(std::array<unsigned char, N>& bytes, unsigned bits) {
    for (std::size_t i = 0; i < N; ++i) {
        const unsigned start = static_cast<unsigned>(i) * 8;
        if (bits >= start + 8) continue;
        bytes[i] = bits <= start ? 0 : static_cast<unsigned char>(bytes[i] & (0xFF << (start + 8 - bits)));
    }
}

}  // namespace

std::size_t client_rate::key_hash::operator()(const key& k) const noexcept {
    std::size_t h = 1469598103934665603ULL;
    for (unsigned char b : k) h = (h ^ b) * 1099511628211ULL;
    return h;
}

client_rate::key client_rate::key_of(const boost::asio::ip::address& client, const settings& s) {
    key k{};
    if (client.is_v4() || (client.is_v6() && client.to_v6().is_v4_mapped())) {
        auto v4 = client.is_v4() ? client.to_v4().to_bytes()
                                 : boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, client.to_v6()).to_bytes();
        mask(v4, s.ipv4_prefix);
        k[0] = 4;
        std::copy(v4.begin(), v4.end(), k.begin() + 1);
    } else {
        auto v6 = client.to_v6().to_bytes();
        mask(v6, s.ipv6_prefix);
        k[0] = 6;
        std::copy(v6.begin(), v6.end(), k.begin() + 1);
    }
    return k;
}

std::string client_rate::network_of(const boost::asio::ip::address& client, const settings& s) {
    const auto k = key_of(client, s);
    if (k[0] == 4) {
        boost::asio::ip::address_v4::bytes_type b;
        std::copy(k.begin() + 1, k.begin() + 5, b.begin());
        return boost::asio::ip::address_v4(b).to_string() + "/" + std::to_string(s.ipv4_prefix);
    }
    boost::asio::ip::address_v6::bytes_type b;
    std::copy(k.begin() + 1, k.end(), b.begin());
    return boost::asio::ip::address_v6(b).to_string() + "/" + std::to_string(s.ipv6_prefix);
}

bool client_rate::try_count(const boost::asio::ip::address& client, clock::time_point now) {
    const std::lock_guard lock(mutex_);
    if (settings_.per_minute == 0) return true;
    const clock::duration minute = std::chrono::minutes(1);
    const clock::duration spacing = minute / settings_.per_minute;
    const clock::duration burst = minute - spacing;  // N events at once, then one per spacing
    if (now - last_prune_ >= std::chrono::minutes(1) || next_.size() >= max_tracked_) prune(now);
    const auto k = key_of(client, settings_);
    auto it = next_.find(k);
    if (it == next_.end()) {
        if (next_.size() >= max_tracked_) return true;  // not tracked: see the header
        next_.emplace(k, now + spacing);
        return true;
    }
    const auto tat = std::max(it->second, now);
    if (tat - now > burst) return false;
    it->second = tat + spacing;
    return true;
}

void client_rate::prune(clock::time_point now) {
    // A network whose theoretical arrival time has passed has its whole burst
    // again: forgetting it changes nothing.
    std::erase_if(next_, [now](const auto& entry) { return entry.second <= now; });
    last_prune_ = now;
}

void client_rate::set(settings s) {
    const std::lock_guard lock(mutex_);
    if (s == settings_) return;
    settings_ = s;
    next_.clear();
}

client_rate::settings client_rate::current() const {
    const std::lock_guard lock(mutex_);
    return settings_;
}

std::size_t client_rate::tracked() const {
    const std::lock_guard lock(mutex_);
    return next_.size();
}

}  // namespace dsproxy::net
