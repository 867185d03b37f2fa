// runtime_slot — the snapshot that new sessions start with, shared by every
// I/O thread of `dsproxy run` (docs/design.md §7).
//
// Owns: one shared_ptr to the current runtime, under a mutex. A reload on
// the main thread replace()s it; an accept on any I/O thread takes current()
// — a copy of the pointer, so the session keeps its snapshot alive whatever
// reloads follow, and the old snapshot is freed by whichever thread drops
// the last reference.
// Must not: hold the lock for anything but the pointer copy (no building,
// no destruction of a snapshot under the lock).
#pragma once

#include "proxy/engine/runtime.hpp"

#include <memory>
#include <mutex>
#include <utility>

namespace dsproxy::engine {

class runtime_slot {
public:
    explicit runtime_slot(std::shared_ptr<const runtime> rt) : rt_(std::move(rt)) {}
    runtime_slot(const runtime_slot&) = delete;
    runtime_slot& operator=(const runtime_slot&) = delete;

    std::shared_ptr<const runtime> current() const {
        const std::lock_guard lock(mutex_);
        return rt_;
    }

    void replace(std::shared_ptr<const runtime> rt) {
        {
            const std::lock_guard lock(mutex_);
            rt_.swap(rt);
        }
        // `rt` now holds the old snapshot; it is released here, outside the lock.
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const runtime> rt_;
};

}  // namespace dsproxy::engine
