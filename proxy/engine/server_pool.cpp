// server_pool — see server_pool.hpp.
#include "proxy/engine/server_pool.hpp"

#include <boost/asio/post.hpp>

#include <atomic>
#include <csignal>
#include <pthread.h>
#include <sched.h>

namespace dsproxy::engine {

std::size_t io_thread_count(std::uint64_t configured) {
    if (configured > 0) return static_cast<std::size_t>(configured);
    // What `nproc` says: the CPUs this process may run on (a cgroup or
    // taskset limit counts), not every core of the machine.
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0) return static_cast<std::size_t>(n);
    }
    const unsigned n = std::thread::hardware_concurrency();
    return n > 0 ? n : 1;
}

server_pool::server_pool(std::size_t threads, const runtime_slot& slot, std::shared_ptr<spdlog::logger> log)
    : slot_(slot), log_(std::move(log)) {
    const auto& lim = slot_.current()->cfg().limit;
    limits_ = std::make_shared<net::connection_limits>(lim.max_connections, lim.max_connections_per_client);
    apply_limits(lim);
    threads = std::max<std::size_t>(threads, 1);
    board_ = std::make_unique<session_board>(threads);
    for (std::size_t i = 0; i < threads; ++i) workers_.push_back(std::make_unique<worker>());
}

server_pool::~server_pool() {
    stop();
    join();
    // Each worker destroys its server before its io_context (member order),
    // so acceptors and resolvers never outlive the context they belong to.
}

bool server_pool::open(std::string& error) {
    const auto rt = slot_.current();
    const auto& listeners = rt->listeners();
    for (std::size_t i = 0; i < listeners.size(); ++i) {
        const auto& spec = *listeners[i].spec;
        for (const auto& hp : spec.listen) {
            boost::system::error_code ec;
            const auto address = asio::ip::make_address(hp.host, ec);
            if (ec) {
                error = "listener " + spec.name + ": bad address " + hp.host;
                return false;
            }
            std::string why;
            auto socket = net::listen_socket::open({address, hp.port}, why);
            if (!socket) {
                error = "listener " + spec.name + ": cannot listen on " + config::to_string(hp) + ": " + why;
                return false;
            }
            log_->info("listener {} ({}) on {} fqdn={} tls={}", spec.name, config::to_name(spec.role),
                       config::to_string(hp), spec.fqdn,
                       listeners[i].tls ? std::string(config::to_name(spec.tls)) : "none");
            sockets_.push_back({std::move(*socket), i});
        }
    }
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        auto& w = *workers_[i];
        w.srv = std::make_unique<server>(w.io, slot_, *board_, limits_, log_, &w.metrics, i);
        if (!w.srv->start(sockets_, error)) return false;
    }
    // Every thread holds its own descriptor now. Dropping ours means that
    // when the drain closes the threads' acceptors the port is closed too:
    // no connection is queued where nobody accepts.
    sockets_.clear();
    log_->info("{} I/O thread(s)", workers_.size());
    return true;
}

void server_pool::run() {
    // Threads inherit the signal mask: blocked there, SIGTERM/SIGINT/SIGHUP
    // reach the main thread's signal_set, and a late signal during exit can
    // never be taken by a worker with the default (fatal) disposition.
    sigset_t block, old;
    sigemptyset(&block);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&block, s);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        auto* w = workers_[i].get();
        w->thread = std::thread([w, i] {
            const std::string name = "dsproxy-io-" + std::to_string(i);  // shown by top -H, ps -L
            pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
            w->io.run();
        });
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void server_pool::drain(std::chrono::steady_clock::duration timeout, boost::asio::any_io_executor where,
                        std::function<void()> done) {
    log_->info("draining: no new connections; {} session(s) may finish", sessions());
    // One deadline for all threads; `done` once the last thread is empty.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto remaining = std::make_shared<std::atomic<std::size_t>>(workers_.size());
    auto finished = [remaining, where, done = std::move(done)] {
        if (remaining->fetch_sub(1, std::memory_order_acq_rel) == 1) asio::post(where, done);
    };
    for (auto& w : workers_)
        asio::post(w->io, [srv = w->srv.get(), deadline, finished] { srv->drain(deadline, finished); });
}

void server_pool::stop() {
    for (auto& w : workers_) w->io.stop();
}

void server_pool::join() {
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
}

void server_pool::apply_limits(const config::limits& limits) {
    limits_->set_maxima(limits.max_connections, limits.max_connections_per_client);
    const auto rate = [&](std::uint64_t per_minute) {
        return net::client_rate::settings{per_minute, static_cast<unsigned>(limits.rate_network_ipv4),
                                          static_cast<unsigned>(limits.rate_network_ipv6)};
    };
    limits_->connection_rate().set(rate(limits.connection_rate_per_client));
    limits_->message_rate().set(rate(limits.message_rate_per_client));
}

std::size_t server_pool::sessions() const {
    std::size_t n = 0;
    for (const auto& w : workers_)
        if (w->srv) n += w->srv->sessions();
    return n;
}

std::vector<const metrics_registry*> server_pool::registries() const {
    std::vector<const metrics_registry*> out;
    for (const auto& w : workers_) out.push_back(&w->metrics);
    return out;
}

}  // namespace dsproxy::engine
