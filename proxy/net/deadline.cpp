// deadline — see deadline.hpp.
#include "proxy/net/deadline.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace dsproxy::net {

asio::awaitable<void> deadline::watch() {
    while (clock::now() < at_) {
        timer_.expires_at(at_);
        // Aborted either by expire_now() (loop re-checks at_) or by the
        // caller's cancellation when the work finished first.
        auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec && ec != asio::error::operation_aborted) co_return;
        auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) co_return;
    }
}

}  // namespace dsproxy::net
