// process — child processes and ports for the tests that start real peers
// (redis-server, Python's HTTPS server): a free loopback port, a child
// started with posix_spawnp and stopped (SIGTERM, then SIGKILL after 5 s)
// when its handle goes, and a bounded wait for a file to appear.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace dsproxy::test {

// A loopback TCP port nobody listens on now.
std::uint16_t free_port();

// Runs `argv` (argv[0] looked up in PATH) as a child process; its pid.
// Throws when it cannot be started.
pid_t spawn(const std::vector<std::string>& argv);

// SIGTERM, up to 5 s, then SIGKILL; reaps the child.
void stop(pid_t pid);

class child_process {
public:
    explicit child_process(const std::vector<std::string>& argv) : pid_(spawn(argv)) {}
    ~child_process() { stop(pid_); }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_;
};

// Waits until `path` exists and is not empty; its content. Throws after `timeout`.
std::string wait_for_file(const std::string& path, std::chrono::seconds timeout);

}  // namespace dsproxy::test
