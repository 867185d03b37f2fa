// Boost.Test printers for the sts enums (names from their to_string).
#pragma once

#include "proxy/sts/policy_cache.hpp"
#include "proxy/sts/sts_policy.hpp"
#include "proxy/sts/tlsrpt_record.hpp"

#include <ostream>

namespace dsproxy::sts {

inline std::ostream& operator<<(std::ostream& os, policy_error e) { return os << to_string(e); }
inline std::ostream& operator<<(std::ostream& os, sts_mode m) { return os << to_string(m); }
inline std::ostream& operator<<(std::ostream& os, record_status s) { return os << to_string(s); }
inline std::ostream& operator<<(std::ostream& os, report_destination::kind k) { return os << to_string(k); }
inline std::ostream& operator<<(std::ostream& os, cache_action a) { return os << to_string(a); }
inline std::ostream& operator<<(std::ostream& os, sts_state st) { return os << to_string(st); }
inline std::ostream& operator<<(std::ostream& os, fetch_error e) { return os << to_string(e); }

}  // namespace dsproxy::sts
