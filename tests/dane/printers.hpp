// Boost.Test printers for the dane enums (names from their to_string).
#pragma once

#include "proxy/dane/tlsa_lookup.hpp"
#include "proxy/dane/tlsa_record.hpp"

#include <ostream>

namespace dsproxy::dane {

inline std::ostream& operator<<(std::ostream& os, unusable_reason r) { return os << to_string(r); }
inline std::ostream& operator<<(std::ostream& os, dane_state s) { return os << to_string(s); }
inline std::ostream& operator<<(std::ostream& os, skip_reason r) { return os << to_string(r); }
inline std::ostream& operator<<(std::ostream& os, dane_action a) { return os << to_string(a); }
inline std::ostream& operator<<(std::ostream& os, dane_outcome o) { return os << to_string(o); }

}  // namespace dsproxy::dane

namespace dsproxy::routing {
inline std::ostream& operator<<(std::ostream& os, dns_status s) { return os << to_string(s); }
}  // namespace dsproxy::routing
