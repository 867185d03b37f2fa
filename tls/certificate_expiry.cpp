// certificate_expiry — see certificate_expiry.hpp.
#include "tls/certificate_expiry.hpp"

#include <algorithm>

namespace dsproxy::tls {

namespace {
constexpr long seconds_per_day = 24 * 60 * 60;
}

std::optional<long> expires_within(const certificate_info& info, std::time_t now, std::chrono::days window) {
    const auto horizon = now + static_cast<std::time_t>(std::chrono::seconds(window).count());
    if (info.not_after < now || info.not_after >= horizon) return std::nullopt;
    return static_cast<long>((info.not_after - now) / seconds_per_day);
}

std::vector<expiry_finding> expiring_certificates(const certificate_store& store, std::time_t now,
                                                  std::chrono::days window) {
    const auto horizon = now + static_cast<std::time_t>(std::chrono::seconds(window).count());
    std::vector<expiry_finding> out;
    for (const auto& c : store.all()) {
        if (c->info.not_after >= horizon) continue;
        expiry_finding f;
        f.cert = c;
        f.expired = c->info.not_after < now;
        // Rounded towards zero: "0 days" means within the next 24 hours.
        f.days_left = static_cast<long>((c->info.not_after - now) / seconds_per_day);
        out.push_back(std::move(f));
    }
    std::stable_sort(out.begin(), out.end(), [](const expiry_finding& a, const expiry_finding& b) {
        return a.cert->info.not_after < b.cert->info.not_after;
    });
    return out;
}

}  // namespace dsproxy::tls
