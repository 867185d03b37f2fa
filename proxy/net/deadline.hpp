// deadline — one timer per session that bounds every wait (SPEC §2, §8).
//
// Owns: the session's current deadline and the reason it would fire for.
// The session sets a deadline before each logical operation (a whole command
// read, a DATA block, an upstream reply), as Postfix does per request rather
// than per read, and runs its work as `co_await (work() || deadline.watch())`.
// When watch() wins, the work is cancelled (its sockets' pending waits are
// aborted) and the caller says 421 with reason() and closes.
//
// expire_now() is how shutdown reaches a session: the drain timeout ends
// every session through the same path as a timeout.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <string>

namespace dsproxy::net {

namespace asio = boost::asio;

class deadline {
public:
    using clock = std::chrono::steady_clock;

    explicit deadline(const asio::any_io_executor& executor) : timer_(executor) {}

    void expires_after(clock::duration d, std::string reason) {
        at_ = clock::now() + d;
        reason_ = std::move(reason);
    }
    void expire_now(std::string reason) {
        at_ = clock::now();
        reason_ = std::move(reason);
        timer_.cancel();
    }
    // Completes once the current deadline has passed.
    asio::awaitable<void> watch();

    const std::string& reason() const noexcept { return reason_; }
    bool expired() const noexcept { return clock::now() >= at_; }

private:
    asio::steady_timer timer_;
    clock::time_point at_ = clock::time_point::max();
    std::string reason_;
};

}  // namespace dsproxy::net
