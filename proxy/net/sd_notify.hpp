// sd_notify — tells the service manager about start-up, reload and shutdown
// with the datagram protocol systemd documents for Type=notify services
// (sd_notify(3): one AF_UNIX datagram of "KEY=VALUE\n" lines to the socket
// named by $NOTIFY_SOCKET; a leading '@' names an abstract socket).
//
// Owns: nothing but the socket path read at construction; each notify()
// opens, sends and closes a datagram socket (three a process life or so).
// Must not: block (a datagram send to a local socket that is not reading
// fails with EAGAIN instead of waiting: MSG_DONTWAIT), or fail the program:
// errors are returned for the caller to log.
// No libsystemd dependency: the protocol is a few lines.
#pragma once

#include <string>
#include <string_view>

namespace dsproxy::net {

class service_notifier {
public:
    // Reads $NOTIFY_SOCKET; without it, notify() does nothing.
    service_notifier();
    explicit service_notifier(std::string socket_path) : path_(std::move(socket_path)) {}

    bool enabled() const noexcept { return !path_.empty(); }
    const std::string& path() const noexcept { return path_; }

    // Sends `state` ("READY=1", "RELOADING=1\nMONOTONIC_USEC=...", ...).
    // True when sent or not enabled; false with `error` set otherwise.
    bool notify(std::string_view state, std::string& error) const;

private:
    std::string path_;
};

// "MONOTONIC_USEC=<CLOCK_MONOTONIC in microseconds>", which systemd wants
// beside RELOADING=1 (sd_notify(3)).
std::string monotonic_usec_field();

}  // namespace dsproxy::net
