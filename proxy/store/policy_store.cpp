// policy_store — see policy_store.hpp.
#include "proxy/store/policy_store.hpp"

namespace dsproxy::store {

std::string_view to_string(store_status s) noexcept {
    switch (s) {
        case store_status::ok: return "ok";
        case store_status::unavailable: return "unavailable";
        case store_status::failed: return "failed";
    }
    return "?";
}

std::string_view to_string(report_state s) noexcept {
    switch (s) {
        case report_state::none: return "none";
        case report_state::claimed: return "claimed";
        case report_state::sent: return "sent";
    }
    return "?";
}

}  // namespace dsproxy::store
