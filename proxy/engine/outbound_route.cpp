// outbound_route — see outbound_route.hpp.
#include "proxy/engine/outbound_route.hpp"

namespace dsproxy::engine {

std::optional<smtp::reply> transaction_route::refusal_for(const route_decision& d) const {
    if (d.refusal) return d.refusal;
    if (admits(d)) return std::nullopt;
    return smtp::make_reply(452, "4.5.3 Too many recipients for this transaction (different route or policy); "
                                 "send it again");
}

}  // namespace dsproxy::engine
