// sd_notify — see sd_notify.hpp.
#include "proxy/net/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace dsproxy::net {

service_notifier::service_notifier() {
    if (const char* p = std::getenv("NOTIFY_SOCKET")) path_ = p;
}

bool service_notifier::notify(std::string_view state, std::string& error) const {
    if (path_.empty()) return true;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.size() >= sizeof address.sun_path || (path_[0] != '/' && path_[0] != '@')) {
        error = "NOTIFY_SOCKET is neither an absolute path nor an abstract name: " + path_;
        return false;
    }
    std::memcpy(address.sun_path, path_.data(), path_.size());
    if (path_[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
    // Abstract names are not NUL-terminated: the length says where they end.
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size() + (path_[0] == '@' ? 0 : 1));

    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("cannot create a notify socket: ") + std::strerror(errno);
        return false;
    }
    const auto sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                               reinterpret_cast<const sockaddr*>(&address), length);
    const int saved = errno;
    ::close(fd);
    if (sent < 0 || static_cast<std::size_t>(sent) != state.size()) {
        error = "cannot notify " + path_ + ": " + (sent < 0 ? std::strerror(saved) : "short send");
        return false;
    }
    return true;
}

std::string monotonic_usec_field() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ull + static_cast<unsigned long long>(ts.tv_nsec) / 1000;
    return "MONOTONIC_USEC=" + std::to_string(usec);
}

}  // namespace dsproxy::net
