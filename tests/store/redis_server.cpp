// redis_server — see redis_server.hpp.
#include "tests/store/redis_server.hpp"

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace dsproxy::test {

redis_server::redis_server(std::uint16_t port) {
    char tmpl[] = "/tmp/dsproxy-redis-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    port_ = port != 0 ? port : free_port();
    pid_ = spawn({"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                  "--appendonly", "no", "--dir", dir_.string(), "--daemonize", "no", "--loglevel", "warning",
                  "--logfile", (dir_ / "redis.log").string()});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        redisContext* c = redisConnect("127.0.0.1", port_);
        const bool up = c && c->err == 0;
        if (up) {
            auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
            const bool pong = r && r->type == REDIS_REPLY_STATUS;
            if (r) freeReplyObject(r);
            redisFree(c);
            if (pong) return;
        } else if (c) {
            redisFree(c);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("redis-server did not answer PING within 10 s");
}

redis_server::~redis_server() { stop(); }

void redis_server::stop() {
    dsproxy::test::stop(pid_);
    pid_ = -1;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

}  // namespace dsproxy::test
