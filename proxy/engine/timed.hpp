// timed — run one awaitable I/O step under a deadline.
//
// Owns: nothing; a helper for the session coroutines. Every wait in the
// engine goes through it (or through a loop of it), so no wait is unbounded
// (docs/design.md §2). The timer is the session's own and is reused for every step.
// A `stop()` from the server (drain timeout, SIGINT) cancels the timer, which
// ends the step as if it had timed out; the caller tells the two apart by
// its own stop flag.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <type_traits>
#include <variant>

namespace dsproxy::engine {

namespace asio = boost::asio;

// Runs `step` until it completes or `timeout` passes. Returns the step's
// value, or nullopt on timeout (the step was cancelled).
template <class T>
asio::awaitable<std::optional<T>> timed(asio::steady_timer& timer, std::chrono::steady_clock::duration timeout,
                                        asio::awaitable<T> step) {
    using namespace asio::experimental::awaitable_operators;
    timer.expires_after(timeout);
    auto result = co_await (std::move(step) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (result.index() == 0) co_return std::get<0>(std::move(result));
    co_return std::nullopt;
}

// The same for a step that returns nothing: true when it completed.
inline asio::awaitable<bool> timed(asio::steady_timer& timer, std::chrono::steady_clock::duration timeout,
                                   asio::awaitable<void> step) {
    using namespace asio::experimental::awaitable_operators;
    timer.expires_after(timeout);
    auto result = co_await (std::move(step) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    co_return result.index() == 0;
}

}  // namespace dsproxy::engine
