// dns_resolver — c-ares on Asio's reactor. See the header for the contract.
//
// How the pieces meet:
//   c-ares opens a socket   -> sock_state_cb(fd, r, w) -> watch(): wrap fd in
//                              a stream_descriptor, async_wait read/write
//   the fd is ready         -> ares_process_fd(fd) -> c-ares reads, maybe
//                              calls a query callback -> finish() posts the
//                              caller's handler with the answer
//   c-ares closes a socket  -> sock_state_cb(fd, 0, 0) -> release() the fd
//                              (c-ares closes it) and forget the watch
//   any of the above        -> reschedule(): timer at ares_timeout()
//
// Lifetimes: Asio handlers hold a weak_ptr to the core, so a handler that
// runs after the resolver is gone does nothing. Each c-ares query owns its
// lookup state through a heap shared_ptr handed to c-ares as `arg` and taken
// back in the callback, which c-ares calls exactly once per query (with
// ARES_EDESTRUCTION from ares_destroy at the latest). Cancellation slots hold
// weak_ptrs to the lookup, so a late cancellation finds nothing.
#include "proxy/net/dns_resolver.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unordered_map>

namespace dsproxy::net {

namespace {

using routing::dns_status;
using routing::ip_family;

// c-ares 1.18 tries the next server on SERVFAIL, REFUSED and NOTIMP, as
// glibc's resolver does (we keep that: one resolver with a bad ACL must not
// stop mail), and when every server failed reports ARES_ECONNREFUSED.
// Newer c-ares reports ESERVFAIL/EREFUSED there; both are mapped.
dns_status map_status(int status) {
    switch (status) {
    case ARES_SUCCESS: return dns_status::ok;
    case ARES_ENODATA: return dns_status::nodata;
    case ARES_ENOTFOUND: return dns_status::nxdomain;
    case ARES_ESERVFAIL: return dns_status::servfail;
    case ARES_ETIMEOUT: return dns_status::timeout;
    case ARES_EREFUSED:
    case ARES_ENOTIMP: return dns_status::refused;
    case ARES_ECONNREFUSED: return dns_status::servers_failed;
    case ARES_EFORMERR:
    case ARES_EBADRESP: return dns_status::malformed;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return dns_status::cancelled;
    default: return dns_status::failure;
    }
}

struct ares_data_deleter {
    void operator()(void* p) const noexcept { ares_free_data(p); }
};

// Boost 1.81's any_completion_handler move assignment recurses (it wraps the
// handler in itself); we only ever move-construct and swap() it.
template <class Answer>
using handler_type = asio::any_completion_handler<void(Answer)>;

// Hands the answer to the waiting coroutine, once, never from inside the
// c-ares call that produced it. `from_slot` is true when called from the
// cancellation slot itself, which must not clear itself. We post to the
// resolver's executor (the caller's, by the one-thread rule): Boost 1.81's
// any_completion_executor cannot be required to be non-blocking.
template <class Answer>
void finish(const asio::any_io_executor& executor, handler_type<Answer>& handler, Answer answer,
            bool from_slot = false) {
    if (!handler) return;
    handler_type<Answer> h;
    h.swap(handler);
    if (!from_slot) {
        auto slot = asio::get_associated_cancellation_slot(h);
        if (slot.is_connected()) slot.clear();
    }
    asio::post(executor, [h = std::move(h), a = std::move(answer)]() mutable { std::move(h)(std::move(a)); });
}

template <class Answer, class Lookup>
void on_cancel(const std::shared_ptr<Lookup>& lookup) {
    auto slot = asio::get_associated_cancellation_slot(lookup->handler);
    if (!slot.is_connected()) return;
    slot.assign([weak = std::weak_ptr<Lookup>(lookup)](asio::cancellation_type) {
        if (auto l = weak.lock()) {
            Answer cancelled;
            cancelled.status = dns_status::cancelled;
            finish(l->executor, l->handler, std::move(cancelled), true);
        }
    });
}

struct mx_lookup {
    asio::any_io_executor executor;
    handler_type<routing::mx_answer> handler;
};

struct host_lookup {
    asio::any_io_executor executor;
    handler_type<routing::address_answer> handler;
    int outstanding = 2;
    dns_status ipv4 = dns_status::failure;
    dns_status ipv6 = dns_status::failure;
    std::vector<routing::host_address> addresses;
};

struct host_leg {
    std::shared_ptr<host_lookup> lookup;
    ip_family family;
};

void on_mx(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<std::shared_ptr<mx_lookup>> box(static_cast<std::shared_ptr<mx_lookup>*>(arg));
    routing::mx_answer answer;
    answer.status = map_status(status);
    if (status == ARES_SUCCESS) {
        ares_mx_reply* raw = nullptr;
        const int rc = ares_parse_mx_reply(abuf, alen, &raw);
        std::unique_ptr<ares_mx_reply, ares_data_deleter> replies(raw);
        answer.status = map_status(rc);
        for (auto* r = replies.get(); rc == ARES_SUCCESS && r; r = r->next) {
            if (answer.records.size() == max_records_per_answer) break;
            answer.records.push_back({r->priority, r->host ? r->host : ""});
        }
        if (answer.status == dns_status::ok && answer.records.empty()) answer.status = dns_status::nodata;
    }
    finish((*box)->executor, (*box)->handler, std::move(answer));
}

void parse_addresses(ip_family family, const unsigned char* abuf, int alen, dns_status& status,
                     std::vector<routing::host_address>& out) {
    char text[INET6_ADDRSTRLEN] = {};
    int count = static_cast<int>(max_records_per_answer);
    int rc = ARES_SUCCESS;
    if (family == ip_family::ipv4) {
        ares_addrttl records[max_records_per_answer];
        rc = ares_parse_a_reply(abuf, alen, nullptr, records, &count);
        for (int i = 0; rc == ARES_SUCCESS && i < count; ++i)
            if (::inet_ntop(AF_INET, &records[i].ipaddr, text, sizeof text)) out.push_back({family, text});
    } else {
        ares_addr6ttl records[max_records_per_answer];
        rc = ares_parse_aaaa_reply(abuf, alen, nullptr, records, &count);
        for (int i = 0; rc == ARES_SUCCESS && i < count; ++i)
            if (::inet_ntop(AF_INET6, &records[i].ip6addr, text, sizeof text)) out.push_back({family, text});
    }
    status = map_status(rc);
}

void on_address(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<host_leg> leg(static_cast<host_leg*>(arg));
    auto& lookup = *leg->lookup;
    dns_status result = map_status(status);
    if (status == ARES_SUCCESS) parse_addresses(leg->family, abuf, alen, result, lookup.addresses);
    (leg->family == ip_family::ipv4 ? lookup.ipv4 : lookup.ipv6) = result;
    if (--lookup.outstanding == 0)
        finish(lookup.executor, lookup.handler, routing::combine_families(lookup.ipv4, lookup.ipv6, std::move(lookup.addresses)));
}

}  // namespace

class dns_resolver::core : public std::enable_shared_from_this<core> {
public:
    explicit core(const asio::any_io_executor& executor) : executor_(executor), timer_(executor) {}
    ~core() { shutdown(); }

    bool init(const resolver_settings& settings, std::string& error) {
        if (settings.timeout.count() <= 0 || settings.tries < 1) {
            error = "DNS timeout must be positive and tries at least 1";
            return false;
        }
        if (const int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS) {
            error = std::string("c-ares: ") + ares_strerror(rc);
            return false;
        }
        library_initialised_ = true;
        ares_options options{};
        options.sock_state_cb = &core::on_socket_state;
        options.sock_state_cb_data = this;
        options.timeout = static_cast<int>(settings.timeout.count());
        options.tries = settings.tries;
        const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
        if (const int rc = ares_init_options(&channel_, &options, mask); rc != ARES_SUCCESS) {
            channel_ = nullptr;
            error = std::string("c-ares: ") + ares_strerror(rc);
            return false;
        }
        if (!settings.servers.empty()) {
            if (const int rc = ares_set_servers_ports_csv(channel_, settings.servers.c_str()); rc != ARES_SUCCESS) {
                error = "invalid DNS server list '" + settings.servers + "': " + ares_strerror(rc);
                return false;
            }
        }
        return true;
    }

    void shutdown() {
        if (channel_) {
            ares_destroy(channel_);  // callbacks run with ARES_EDESTRUCTION; sockets reported closed
            channel_ = nullptr;
        }
        timer_.cancel();
        for (auto& [fd, w] : watches_) w->descriptor.release();
        watches_.clear();
        if (library_initialised_) ares_library_cleanup();
        library_initialised_ = false;
    }

    void start_mx(handler_type<routing::mx_answer> handler, const std::string& domain) {
        auto lookup = std::make_shared<mx_lookup>();
        lookup->executor = executor_;
        lookup->handler.swap(handler);
        if (!channel_) {
            finish(executor_, lookup->handler, routing::mx_answer{dns_status::cancelled, {}});
            return;
        }
        on_cancel<routing::mx_answer>(lookup);
        auto box = std::make_unique<std::shared_ptr<mx_lookup>>(lookup);
        ares_query(channel_, domain.c_str(), ns_c_in, ns_t_mx, &on_mx, box.release());
        reschedule();
    }

    void start_host(handler_type<routing::address_answer> handler, const std::string& host) {
        auto lookup = std::make_shared<host_lookup>();
        lookup->executor = executor_;
        lookup->handler.swap(handler);
        if (auto family = routing::ip_literal_family(host)) {
            finish(executor_, lookup->handler, routing::combine_families(dns_status::ok, dns_status::ok, {{*family, host}}));
            return;
        }
        if (!channel_) {
            finish(executor_, lookup->handler, routing::combine_families(dns_status::cancelled, dns_status::cancelled, {}));
            return;
        }
        on_cancel<routing::address_answer>(lookup);
        auto v4 = std::make_unique<host_leg>(host_leg{lookup, ip_family::ipv4});
        auto v6 = std::make_unique<host_leg>(host_leg{lookup, ip_family::ipv6});
        ares_query(channel_, host.c_str(), ns_c_in, ns_t_a, &on_address, v4.release());
        ares_query(channel_, host.c_str(), ns_c_in, ns_t_aaaa, &on_address, v6.release());
        reschedule();
    }

    std::string servers() const {
        ares_addr_port_node* raw = nullptr;
        if (ares_get_servers_ports(channel_, &raw) != ARES_SUCCESS) return {};
        std::unique_ptr<ares_addr_port_node, ares_data_deleter> list(raw);
        std::string out;
        char text[INET6_ADDRSTRLEN] = {};
        for (auto* n = list.get(); n; n = n->next) {
            if (!::inet_ntop(n->family, &n->addr, text, sizeof text)) continue;
            if (!out.empty()) out += ',';
            const int port = n->udp_port ? n->udp_port : 53;
            out += n->family == AF_INET6 ? "[" + std::string(text) + "]" : std::string(text);
            out += ":" + std::to_string(port);
        }
        return out;
    }

private:
    struct socket_watch {
        socket_watch(const asio::any_io_executor& ex, std::uint64_t watch_id) : descriptor(ex), id(watch_id) {}
        asio::posix::stream_descriptor descriptor;
        std::uint64_t id;  // tells a reused fd number from the socket a handler was waiting on
        bool want_read = false, want_write = false, reading = false, writing = false;
    };

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
        static_cast<core*>(data)->watch(fd, readable != 0, writable != 0);
    }

    void watch(ares_socket_t fd, bool readable, bool writable) {
        auto it = watches_.find(fd);
        if (!readable && !writable) {
            if (it != watches_.end()) {
                it->second->descriptor.release();  // c-ares closes the fd itself
                watches_.erase(it);
            }
            return;
        }
        if (it == watches_.end()) {
            auto w = std::make_unique<socket_watch>(executor_, next_watch_id_++);
            boost::system::error_code ec;
            w->descriptor.assign(fd, ec);
            if (ec) return;  // unwatchable: the query ends by c-ares's own timeout
            it = watches_.emplace(fd, std::move(w)).first;
        }
        it->second->want_read = readable;
        it->second->want_write = writable;
        arm(fd, *it->second);
    }

    void arm(ares_socket_t fd, socket_watch& w) {
        if (w.want_read && !w.reading) {
            w.reading = true;
            w.descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                    [weak = weak_from_this(), fd, id = w.id](boost::system::error_code ec) {
                                        if (auto self = weak.lock()) self->on_ready(fd, id, true, ec);
                                    });
        }
        if (w.want_write && !w.writing) {
            w.writing = true;
            w.descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                                    [weak = weak_from_this(), fd, id = w.id](boost::system::error_code ec) {
                                        if (auto self = weak.lock()) self->on_ready(fd, id, false, ec);
                                    });
        }
    }

    void on_ready(ares_socket_t fd, std::uint64_t id, bool read, boost::system::error_code ec) {
        auto it = watches_.find(fd);
        if (it == watches_.end() || it->second->id != id) return;  // released, maybe reused
        (read ? it->second->reading : it->second->writing) = false;
        if (ec == asio::error::operation_aborted || !channel_) return;
        // Any other error: let c-ares try the fd and see the error itself.
        ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
        it = watches_.find(fd);
        if (it != watches_.end() && it->second->id == id) arm(fd, *it->second);
        reschedule();
    }

    void reschedule() {
        if (!channel_) return;
        timeval tv{};
        if (!ares_timeout(channel_, nullptr, &tv)) {
            timer_.cancel();  // nothing in flight
            return;
        }
        timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
        timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            auto self = weak.lock();
            if (!self || ec || !self->channel_) return;  // rescheduled or shut down
            ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            self->reschedule();
        });
    }

    asio::any_io_executor executor_;
    asio::steady_timer timer_;
    ares_channel channel_ = nullptr;
    bool library_initialised_ = false;
    std::unordered_map<ares_socket_t, std::unique_ptr<socket_watch>> watches_;
    std::uint64_t next_watch_id_ = 1;
};

std::unique_ptr<dns_resolver> dns_resolver::create(const asio::any_io_executor& executor,
                                                   const resolver_settings& settings, std::string& error) {
    auto c = std::make_shared<core>(executor);
    if (!c->init(settings, error)) return nullptr;
    return std::unique_ptr<dns_resolver>(new dns_resolver(std::move(c)));
}

dns_resolver::~dns_resolver() {
    if (core_) core_->shutdown();
}

// The initiations capture a plain pointer: they run inside async_initiate,
// while the resolver is alive. (A lambda capturing a shared_ptr inside the
// co_await expression is destroyed twice by g++ 12's coroutines.)
asio::awaitable<routing::mx_answer> dns_resolver::query_mx(std::string domain) {
    core* c = core_.get();
    auto initiation = [c](handler_type<routing::mx_answer> handler, const std::string& name) {
        c->start_mx(std::move(handler), name);
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(routing::mx_answer)>(
        initiation, asio::use_awaitable, std::move(domain));
}

asio::awaitable<routing::address_answer> dns_resolver::resolve_host(std::string host) {
    core* c = core_.get();
    auto initiation = [c](handler_type<routing::address_answer> handler, const std::string& name) {
        c->start_host(std::move(handler), name);
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(routing::address_answer)>(
        initiation, asio::use_awaitable, std::move(host));
}

std::string dns_resolver::servers() const { return core_->servers(); }

}  // namespace dsproxy::net
