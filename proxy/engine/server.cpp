// server — see server.hpp.
#include "proxy/engine/server.hpp"

#include "proxy/engine/dns_settings.hpp"
#include "proxy/engine/engine_limits.hpp"
#include "proxy/engine/proxy_intake.hpp"
#include "proxy/log/logging.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

namespace dsproxy::engine {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

namespace {

// Where listener `name` is in `rt`'s listeners, or nullopt when a reload
// removed it (its socket stays bound until a restart).
std::optional<std::size_t> find_listener(const runtime& rt, std::string_view name) {
    const auto& ls = rt.listeners();
    for (std::size_t i = 0; i < ls.size(); ++i)
        if (ls[i].spec->name == name) return i;
    return std::nullopt;
}

}  // namespace

server::server(asio::io_context& io, const runtime_slot& slot, session_board& board,
               std::shared_ptr<net::connection_limits> limits, std::shared_ptr<spdlog::logger> log,
               metrics_registry* metrics, std::size_t index)
    : io_(io),
      slot_(slot),
      board_(board),
      log_(std::move(log)),
      metrics_(metrics),
      index_(index),
      limits_(std::move(limits)) {}

bool server::start(std::span<const listen_binding> sockets, std::string& error) {
    const auto rt = slot_.current();
    const auto& listeners = rt->listeners();
    bool outbound = false;
    for (const auto& l : listeners) outbound = outbound || l.spec->role == config::listener_role::outbound;
    if (outbound) {
        if (!resolver_for(rt, error)) {
            error = "DNS resolver: " + error;
            return false;
        }
        if (index_ == 0) log_->info("outbound DNS servers: {}", resolver_->describe());
    }
    for (const auto& binding : sockets) {
        const auto& name = listeners.at(binding.listener).spec->name;
        const int fd = binding.socket.duplicate(error);
        if (fd < 0) {
            error = "listener " + name + ": " + error;
            return false;
        }
        const auto& endpoint = binding.socket.endpoint();
        boost::system::error_code ec;
        auto b = std::make_unique<bound>(bound{asio::ip::tcp::acceptor(io_), name});
        b->acceptor.assign(endpoint.protocol(), fd, ec);
        if (ec) {
            ::close(fd);
            error = "listener " + name + ": cannot accept on " + endpoint.address().to_string() + ": " + ec.message();
            return false;
        }
        acceptors_.push_back(std::move(b));
    }
    for (auto& b : acceptors_) asio::co_spawn(io_, accept_loop(*b), asio::detached);
    return true;
}

std::shared_ptr<net::dns_resolver> server::resolver_for(const std::shared_ptr<const runtime>& rt, std::string& error) {
    // Issue 15: a reload's new DNS settings (servers, timeouts, trust
    // anchors, which may have changed on disk) take effect for the sessions
    // accepted after it; the old resolver lives on in the sessions that hold it.
    if (resolver_ && resolver_snapshot_.lock() == rt) return resolver_;
    auto fresh = net::dns_resolver::create(io_.get_executor(), resolver_settings_for(rt->cfg().outbound), error);
    if (!fresh) return nullptr;
    resolver_ = std::move(fresh);
    resolver_snapshot_ = rt;
    return resolver_;
}

asio::awaitable<void> server::accept_loop(bound& b) {
    while (!draining_) {
        if (!board_.may_accept(index_)) {
            // Another thread has clearly fewer sessions: it takes the next
            // connections while this one looks again shortly.
            asio::steady_timer pause(io_, limits::accept_yield);
            co_await pause.async_wait(use_tuple);
            continue;
        }
        auto [ec, socket] = co_await b.acceptor.async_accept(use_tuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || draining_) break;
            log_->warn("accept failed: {}", ec.message());  // e.g. EMFILE: keep serving the others
            asio::steady_timer pause(io_, limits::accept_error_pause);
            co_await pause.async_wait(use_tuple);
            continue;
        }
        boost::system::error_code rec, lec;
        const auto peer = socket.remote_endpoint(rec);
        const auto local = socket.local_endpoint(lec);
        if (rec || lec) continue;
        // The snapshot of this connection, from accept to its end.
        auto rt = slot_.current();
        const auto listener = find_listener(*rt, b.listener);
        if (!listener) {
            log_->warn("client={} reason=listener {} was removed by a reload (restart to unbind it): 421",
                       peer.address().to_string(), b.listener);
            asio::co_spawn(io_, refuse(std::move(socket), "421 4.3.0 Service not available\r\n"), asio::detached);
            continue;
        }
        if (!rt->listeners()[*listener].spec->proxy_protocol.empty()) {
            asio::co_spawn(io_, run_proxied(std::move(socket), std::move(rt), *listener), asio::detached);
            co_await asio::post(io_, asio::use_awaitable);
            continue;
        }
        admit(std::move(socket), std::move(rt), *listener, peer, local);
        // Let this thread start the session before it accepts again: another
        // thread that is idle takes the next connection of a burst meanwhile,
        // instead of the first thread draining the whole accept queue.
        co_await asio::post(io_, asio::use_awaitable);
    }
}

void server::admit(asio::ip::tcp::socket socket, std::shared_ptr<const runtime> rt, std::size_t listener,
                   const asio::ip::tcp::endpoint& peer, const asio::ip::tcp::endpoint& local) {
    const auto& lim = rt->cfg().limit;
    if (lim.connection_rate_per_client > 0 && !rate_exempt(lim, peer.address()) &&
        !limits_->connection_rate().try_count(peer.address(), std::chrono::steady_clock::now())) {
        const auto network = net::client_rate::network_of(peer.address(), limits_->connection_rate().current());
        log_->warn("client={} reason=connection refused: over connection_rate_per_client ({} per minute from {})",
                   peer.address().to_string(), lim.connection_rate_per_client, network);
        count_refusal(refusal::over_connection_rate);
        asio::co_spawn(io_,
                       refuse(std::move(socket), "421 4.7.0 Too many connections from your network (limit " +
                                                     std::to_string(lim.connection_rate_per_client) +
                                                     " per minute), try again later\r\n"),
                       asio::detached);
        return;
    }
    net::connection_limits::slot slot;
    switch (limits_->try_admit(peer.address(), slot)) {
        case net::admission::admitted:
            asio::co_spawn(io_, run_session(std::move(socket), std::move(rt), listener, std::move(slot), peer, local),
                           asio::detached);
            break;
        case net::admission::over_total:
            log_->warn("client={} reason=connection refused: {} connections open (limit)", peer.address().to_string(),
                       limits_->total());
            count_refusal(refusal::over_total);
            asio::co_spawn(io_, refuse(std::move(socket), "421 4.7.0 Too many connections, try again later\r\n"),
                           asio::detached);
            break;
        case net::admission::over_per_client:
            log_->warn("client={} reason=connection refused: too many connections from this address",
                       peer.address().to_string());
            count_refusal(refusal::over_per_client);
            asio::co_spawn(io_,
                           refuse(std::move(socket), "421 4.7.0 Too many connections from your address\r\n"),
                           asio::detached);
            break;
    }
}

bool server::rate_exempt(const config::limits& lim, const asio::ip::address& client) {
    if (lim.rate_exempt.empty()) return false;
    const auto ip = config::parse_ip(client.to_string());
    for (const auto& net : lim.rate_exempt)
        if (ip && net.contains(*ip)) return true;
    return false;
}

asio::awaitable<void> server::run_proxied(asio::ip::tcp::socket socket, std::shared_ptr<const runtime> rt,
                                          std::size_t listener) {
    // The snapshot taken at accept time: the header is read under the same
    // rules the connection was accepted with.
    const auto& l = rt->listeners()[listener];
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (ec) co_return;
    if (!is_trusted_source(l.spec->proxy_protocol, peer.address())) {
        log_->warn("client={} listener={} reason=PROXY header expected but the peer is not in proxy_protocol; closing",
                   peer.address().to_string(), l.spec->name);
        count_refusal(refusal::proxy_untrusted);
        socket.close(ec);
        co_return;
    }
    const auto intake = co_await read_proxy_header(socket, rt->cfg().timeout.client.proxy_header);
    if (!intake.ok) {
        log_->warn("client={} listener={} reason=bad PROXY header: {}; closing", peer.address().to_string(),
                   l.spec->name, log::printable(intake.error));
        count_refusal(refusal::proxy_header);
        socket.close(ec);
        co_return;
    }
    if (draining_) {
        socket.close(ec);
        co_return;
    }
    log_->info("proxy={} {} client={} port={} via {}", intake.version, l.spec->name,
               intake.client.address().to_string(), intake.client.port(), peer.address().to_string());
    // Limits count the real client, not the balancer (which would otherwise
    // hit max_connections_per_client at once).
    admit(std::move(socket), std::move(rt), listener, intake.client, intake.local);
}

asio::awaitable<void> server::refuse(asio::ip::tcp::socket socket, std::string text) {
    if (metrics_) metrics_->reply_sent(text);
    net::tls_socket s(std::move(socket));
    asio::steady_timer timer(io_);
    boost::system::error_code ec;
    co_await timed(timer, limits::goodbye, s.write_all(text, ec));
    s.close();
}

asio::awaitable<void> server::run_session(asio::ip::tcp::socket socket, std::shared_ptr<const runtime> rt,
                                          std::size_t listener, net::connection_limits::slot slot,
                                          asio::ip::tcp::endpoint peer, asio::ip::tcp::endpoint local) {
    (void)slot;  // held for the session's whole life: the connection counts until it ends
    // `rt`: this session's snapshot, whatever reloads happen.
    const auto& l = rt->listeners()[listener];
    const std::string id = log::new_session_id();
    net::tls_socket client(std::move(socket));
    const std::string address = peer.address().to_string();
    log_->info("sid={} connect from {} port {} listener={} thread={}", id, address, peer.port(), l.spec->name,
               index_);

    const bool outbound = l.spec->role == config::listener_role::outbound;
    std::shared_ptr<net::dns_resolver> resolver;  // this snapshot's, held to the session's end
    std::optional<outbound_router> router;
    std::optional<upstream_settings> upstream;
    if (outbound) {
        // docs/design.md §1: an outbound listener serves allowed_clients only.
        const auto ip = config::parse_ip(address);
        bool allowed = false;
        for (const auto& net : l.spec->allowed_clients) allowed = allowed || (ip && net.contains(*ip));
        if (!allowed) {
            log_->warn("sid={} client={} reason=not in allowed_clients of listener {}: 554", id, address,
                       l.spec->name);
            count_refusal(refusal::not_allowed_client);
            co_await refuse(std::move(client.socket()),
                            "554 5.7.1 " + l.spec->fqdn + " Access denied: relaying not allowed for your address\r\n");
            co_return;
        }
        std::string why;
        resolver = resolver_for(rt, why);
        if (!resolver) {
            log_->error("sid={} DNS resolver: {}: 421", id, why);
            co_await refuse(std::move(client.socket()), "421 4.3.0 Service not available\r\n");
            co_return;
        }
        router.emplace(*rt, l, *resolver, random_);
        upstream.emplace();
    } else {
        upstream = rt->upstream_for(l);
        if (!upstream) {
            log_->error("sid={} listener {} has no upstream to relay to", id, l.spec->name);
            count_refusal(refusal::no_upstream);
            co_await refuse(std::move(client.socket()), "421 4.3.0 Service not available\r\n");
            co_return;
        }
    }
    auto policy = rt->policy_for(
        l, [log = log_, id](const std::string& line) { log->info("sid={} {}", id, line); }, metrics_);
    if (const auto& lim = rt->cfg().limit; lim.message_rate_per_client > 0 && !rate_exempt(lim, peer.address()))
        policy.admit_message = [this, id, client = peer.address(), n = lim.message_rate_per_client]()
            -> std::optional<smtp::reply> {
            if (limits_->message_rate().try_count(client, std::chrono::steady_clock::now())) return std::nullopt;
            log_->warn("sid={} reason=MAIL refused: over message_rate_per_client ({} per minute from {}): 421", id, n,
                       net::client_rate::network_of(client, limits_->message_rate().current()));
            count_refusal(refusal::over_message_rate);
            return smtp::make_reply(421, "4.7.0 Too much mail from your network (limit " + std::to_string(n) +
                                             " messages per minute), try again later");
        };
    auto front = rt->front_for(l, id, log_);
    front.client_endpoint = peer;
    front.local_endpoint = local;
    front.metrics = metrics_;
    auto session = std::make_unique<relay_session>(std::move(client), std::move(front),
                                                   rt->server_options_for(l, id, address), std::move(policy),
                                                   std::move(*upstream), router ? &*router : nullptr);
    sessions_.insert(session.get());
    board_.set(index_, sessions_.size());
    if (metrics_) metrics_->connection_opened(l.spec->name);
    const auto started = std::chrono::steady_clock::now();
    try {
        co_await session->run();
    } catch (const std::exception& e) {
        // A programming error must end one session, never the process.
        log_->error("sid={} session failed: {}", id, e.what());
    }
    sessions_.erase(session.get());
    board_.set(index_, sessions_.size());
    if (metrics_) metrics_->connection_closed();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    log_->info("sid={} disconnect duration_ms={}", id, ms);
}

void server::drain(std::chrono::steady_clock::time_point deadline, std::function<void()> done) {
    if (draining_) return;
    draining_ = true;
    for (auto& b : acceptors_) {
        boost::system::error_code ec;
        b->acceptor.close(ec);
    }
    asio::co_spawn(io_, drain_loop(deadline, std::move(done)), asio::detached);
}

asio::awaitable<void> server::drain_loop(std::chrono::steady_clock::time_point until, std::function<void()> done) {
    asio::steady_timer tick(io_);
    while (!sessions_.empty() && std::chrono::steady_clock::now() < until) {
        tick.expires_after(limits::drain_tick);
        co_await tick.async_wait(use_tuple);
    }
    if (!sessions_.empty()) {
        log_->info("drain timeout: closing {} session(s) of thread {} with 421", sessions_.size(), index_);
        for (auto* s : sessions_) s->stop();
        const auto hard = std::chrono::steady_clock::now() + limits::drain_stop_grace;
        while (!sessions_.empty() && std::chrono::steady_clock::now() < hard) {
            tick.expires_after(limits::drain_stop_tick);
            co_await tick.async_wait(use_tuple);
        }
    }
    done();
}

}  // namespace dsproxy::engine
