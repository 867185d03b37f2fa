// session_board — how many sessions each I/O thread has open, so that the
// threads share the load (issue 8).
//
// All threads accept from the same listen sockets, and the kernel wakes the
// same idle thread first every time: left alone, one thread would collect
// the sessions of a quiet period (and their work once they get busy) while
// another sits idle. So a thread stops accepting while it holds clearly more
// sessions than the least loaded one (nginx's accept_disabled idea): the
// thread with the fewest always accepts, so no connection waits for a
// pause to end.
//
// Owns: one atomic count per thread (relaxed: a hint for balancing, never
// a limit; connection_limits enforces the limits).
// Must not: block or allocate after construction.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <vector>

namespace dsproxy::engine {

class session_board {
public:
    explicit session_board(std::size_t threads) : counts_(std::max<std::size_t>(threads, 1)) {}

    void set(std::size_t thread, std::size_t sessions) noexcept {
        counts_[thread].store(sessions, std::memory_order_relaxed);
    }
    std::size_t get(std::size_t thread) const noexcept { return counts_[thread].load(std::memory_order_relaxed); }

    std::size_t fewest() const noexcept {
        std::size_t n = get(0);
        for (std::size_t i = 1; i < counts_.size(); ++i) n = std::min(n, get(i));
        return n;
    }

    // May `thread` accept the next connection? Yes unless it holds more
    // than the least loaded thread plus a slack (2, and an eighth more, so
    // that a few sessions of difference do not make threads take turns).
    bool may_accept(std::size_t thread) const noexcept {
        const std::size_t least = fewest();
        return get(thread) <= least + 2 + least / 8;
    }

    std::size_t threads() const noexcept { return counts_.size(); }

private:
    std::vector<std::atomic<std::size_t>> counts_;
};

}  // namespace dsproxy::engine
