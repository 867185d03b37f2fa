// certificate_expiry — which certificates in the store expire soon, or have
// expired (issue 8: a warning at start, at each reload and daily, so a
// renewal that did not happen is noticed before clients see an expired
// certificate).
//
// Owns: the decision "expires within the window"; returns findings.
// Must not: log (proxy/ does) or read the clock (the caller passes `now`).
#pragma once

#include "tls/certificate_store.hpp"

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <vector>

namespace dsproxy::tls {

inline constexpr std::chrono::days expiry_warning_window{30};

struct expiry_finding {
    std::shared_ptr<const credential> cert;
    bool expired = false;  // not_after is already past
    long days_left = 0;    // whole days until not_after (negative: days since)
};

// Whole days until `info` expires when that is within `window` and it has
// not expired yet; nullopt otherwise (`cert list` flags it).
std::optional<long> expires_within(const certificate_info& info, std::time_t now,
                                   std::chrono::days window = expiry_warning_window);

// Certificates of `store` whose not_after is before now + window, soonest first.
std::vector<expiry_finding> expiring_certificates(const certificate_store& store, std::time_t now,
                                                  std::chrono::days window = expiry_warning_window);

}  // namespace dsproxy::tls
