// open_store — see open_store.hpp.
#include "proxy/store/open_store.hpp"

#include "proxy/store/redis_store.hpp"
#include "proxy/store/sqlite_store.hpp"

#include <cstdlib>

namespace dsproxy::store {

std::string sqlite_path(const config::store_settings& settings) {
    if (settings.path) return *settings.path;
    const char* state = std::getenv("STATE_DIRECTORY");  // systemd StateDirectory=dsproxy
    const std::string dir = state && *state ? std::string(state) : std::string("/var/lib/dsproxy");
    return dir.substr(0, dir.find(':')) + "/store.db";  // several directories: the first
}

std::unique_ptr<policy_store> open_store(const config::store_settings& settings, std::string& error) {
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(settings.timeout);
    if (settings.redis)
        return std::make_unique<redis_store>(
            redis_endpoint{settings.redis->host, settings.redis->port, static_cast<unsigned>(settings.redis->db)}, timeout);
    return sqlite_store::open(sqlite_path(settings), timeout, error);
}

}  // namespace dsproxy::store
