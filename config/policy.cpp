// policy — see policy.hpp.
#include "config/policy.hpp"

namespace dsproxy::config {

std::string_view to_string(policy_source source) noexcept {
    switch (source) {
    case policy_source::exact: return "exact";
    case policy_source::parent: return "parent";
    case policy_source::fallback: return "default";
    }
    return "?";
}

}  // namespace dsproxy::config
