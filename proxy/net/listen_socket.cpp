// listen_socket — see listen_socket.hpp.
#include "proxy/net/listen_socket.hpp"

#include <boost/asio/socket_base.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace dsproxy::net {

namespace {
std::string why(int error) { return std::strerror(error); }
}  // namespace

std::optional<listen_socket> listen_socket::open(const boost::asio::ip::tcp::endpoint& endpoint, std::string& error) {
    const bool v6 = endpoint.address().is_v6();
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
        error = why(errno);
        return std::nullopt;
    }
    listen_socket s(fd, endpoint);  // closes fd on every early return below
    const int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (v6 && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0)) {
        error = why(errno);
        return std::nullopt;
    }
    if (::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0 ||
        ::listen(fd, boost::asio::socket_base::max_listen_connections) != 0) {
        error = why(errno);
        return std::nullopt;
    }
    return s;
}

listen_socket::listen_socket(listen_socket&& other) noexcept : fd_(other.fd_), endpoint_(other.endpoint_) {
    other.fd_ = -1;
}

listen_socket& listen_socket::operator=(listen_socket&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        endpoint_ = other.endpoint_;
        other.fd_ = -1;
    }
    return *this;
}

listen_socket::~listen_socket() {
    if (fd_ >= 0) ::close(fd_);
}

int listen_socket::duplicate(std::string& error) const {
    const int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) error = why(errno);
    return fd;
}

}  // namespace dsproxy::net
