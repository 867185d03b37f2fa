// listener_start — see listener_start.hpp.
#include "proxy/engine/listener_start.hpp"

namespace dsproxy::engine {

listener_start_decision decide_listener_start(const config::listener& l,
                                              const std::optional<std::string>& no_certificate) {
    if (l.tls == config::listener_tls::none || !no_certificate) return {};
    const std::string missing = "listener " + l.name + ": no usable certificate for " + l.fqdn + " (" +
                                *no_certificate + ")";
    if (l.tls == config::listener_tls::implicit)
        return {listener_start::refuse,
                missing + ": a `tls: implicit` listener cannot run without one; import one with `dsproxy cert "
                          "import`"};
    if (l.without_certificate == config::listener_without_certificate::plain)
        return {listener_start::without_starttls,
                missing + ": STARTTLS is not offered, mail arrives in plain text (`without_certificate: plain`)"};
    return {listener_start::refuse,
            missing + ": a `tls: starttls` listener does not start without one (clients would send in plain "
                      "text); import one with `dsproxy cert import`, or set `without_certificate: plain` on the "
                      "listener to accept plain text"};
}

}  // namespace dsproxy::engine
