// redis_server — a real redis-server for the store tests, started on a free
// loopback port in a temporary directory and stopped (SIGTERM, then
// SIGKILL) when the object goes. Throws when it cannot start in 10 s.
#pragma once

#include "tests/support/process.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <sys/types.h>

namespace dsproxy::test {

class redis_server {
public:
    explicit redis_server(std::uint16_t port = 0);  // 0: a free port
    ~redis_server();
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }

private:
    void stop();

    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace dsproxy::test
