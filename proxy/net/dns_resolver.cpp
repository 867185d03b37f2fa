// dns_resolver — libunbound on Asio's reactor. See the header for the contract.
//
// How the pieces meet:
//   start()                 -> ub_resolve_async(name, type, on_result, lookup*)
//                              (libunbound's worker thread resolves and
//                              validates) and a deadline timer
//   the result pipe is ready -> ub_process() -> on_result() for each
//                              finished query -> complete() posts the
//                              caller's handler with the answer
//   the deadline fires /     -> ub_cancel() (its callback then never runs)
//   the caller cancels         and complete() with timeout / cancelled
//
// Lifetimes: a lookup is owned by core::lookups_ from start() to complete();
// libunbound holds a plain pointer to it, which is valid exactly as long:
// complete() either runs inside that query's callback or after ub_cancel,
// and shutdown() cancels every query before deleting the context. Asio
// handlers hold a weak_ptr to the core and the lookup's key, so a handler
// that runs after either is gone does nothing.
#include "proxy/net/dns_resolver.hpp"

#include "proxy/routing/dns_rdata.hpp"

#include <unbound.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <unordered_map>

namespace dsproxy::net {

namespace {

using routing::dns_status;
using routing::ip_family;

// RR types and class (RFC 1035 §3.2.2, RFC 3596, RFC 6698).
constexpr int rr_a = 1, rr_mx = 15, rr_txt = 16, rr_aaaa = 28, rr_tlsa = 52;
constexpr int class_in = 1;

using raw_handler = asio::any_completion_handler<void(routing::rdata_answer)>;

struct ub_ctx_deleter {
    void operator()(ub_ctx* c) const noexcept { ub_ctx_delete(c); }
};
struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

std::string lower_without_dot(std::string_view name) {
    std::string out(name);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!out.empty() && out.back() == '.') out.pop_back();
    return out;
}

// "127.0.0.1", "127.0.0.1:5353", "[::1]:53" -> unbound's "127.0.0.1@5353".
std::optional<std::string> forwarder_address(const std::string& text) {
    std::string host = text, port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') return std::nullopt;
            port = text.substr(close + 2);
        }
    } else if (const auto colon = text.find(':'); colon != std::string::npos) {
        if (text.find(':', colon + 1) != std::string::npos) return std::nullopt;  // bare IPv6 needs brackets
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (!routing::ip_literal_family(host)) return std::nullopt;
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
        const int p = std::stoi(port);
        if (p < 1 || p > 65535) return std::nullopt;
        return host + "@" + port;
    }
    return host;
}

routing::rdata_answer to_answer(int err, ub_result* result) {
    routing::rdata_answer a;
    if (err != 0 || !result) {
        a.status = err == UB_SERVFAIL ? dns_status::servfail : dns_status::failure;
        a.why_bogus = ub_strerror(err);
        return a;
    }
    if (result->bogus) {
        a.status = dns_status::bogus;
        a.why_bogus = result->why_bogus ? result->why_bogus : "validation failed";
        return a;
    }
    switch (result->rcode) {
    case 0: a.status = result->havedata ? dns_status::ok : dns_status::nodata; break;
    case 1: a.status = dns_status::malformed; break;
    case 2: a.status = dns_status::servfail; break;
    case 3: a.status = dns_status::nxdomain; break;
    case 4:
    case 5: a.status = dns_status::refused; break;
    default: a.status = dns_status::failure; break;
    }
    a.secure = result->secure != 0;
    if (result->canonname && result->qname &&
        lower_without_dot(result->canonname) != lower_without_dot(result->qname))
        a.canonical = lower_without_dot(result->canonname);
    if (a.status == dns_status::ok)
        for (int i = 0; result->data[i] && a.rdata.size() < max_records_per_answer; ++i) {
            const auto* bytes = reinterpret_cast<const unsigned char*>(result->data[i]);
            a.rdata.emplace_back(bytes, bytes + result->len[i]);
        }
    return a;
}

// Applies `settings` to a fresh context; false with `error` set.
bool configure(ub_ctx* ctx, const resolver_settings& settings, std::string& error) {
    if (settings.timeout.count() <= 0 || settings.tries < 1) {
        error = "DNS timeout must be positive and tries at least 1";
        return false;
    }
    auto option = [&](const char* name, const std::string& value) {
        if (const int rc = ub_ctx_set_option(ctx, name, value.c_str()); rc != 0) {
            error = std::string("libunbound option ") + name + " " + value + ": " + ub_strerror(rc);
            return false;
        }
        return true;
    };
    // Forwarders on loopback are normal here (a local validating resolver,
    // the tests' authoritative server); unbound refuses them by default.
    if (!option("do-not-query-localhost:", "no")) return false;
    // Names a site's own DNS may serve (RFC 6761 §6.2 `test.`, RFC 8375
    // `home.arpa.`) are asked of the servers, not answered NXDOMAIN by
    // libunbound's built-in zones. (`transparent`, not `nodefault`:
    // libunbound 1.17's ub_ctx_set_option stores a nodefault name with its
    // type attached, so it never matches.)
    for (const char* zone : {"test. transparent", "home.arpa. transparent"})
        if (!option("local-zone:", zone)) return false;
    // No single try waits longer than the configured timeout.
    if (!option("infra-cache-max-rtt:", std::to_string(std::max<long long>(settings.timeout.count(), 50))))
        return false;
    if (settings.trust_anchors.empty() && !option("module-config:", "iterator")) return false;
    if (const int rc = ub_ctx_async(ctx, 1); rc != 0) {  // a worker thread, never fork()
        error = std::string("libunbound: ") + ub_strerror(rc);
        return false;
    }
    for (const auto& s : settings.servers) {
        const auto address = forwarder_address(s);
        if (!address) {
            error = "invalid DNS server '" + s + "': write IP, IP:PORT or [IPv6]:PORT";
            return false;
        }
        if (const int rc = ub_ctx_set_fwd(ctx, address->c_str()); rc != 0) {
            error = "invalid DNS server '" + s + "': " + ub_strerror(rc);
            return false;
        }
    }
    // No resolv.conf (or no nameserver in it): libunbound recurses itself.
    if (settings.servers.empty()) (void)ub_ctx_resolvconf(ctx, nullptr);
    for (const auto& file : settings.trust_anchors) {
        if (const int rc = ub_ctx_add_ta_file(ctx, file.c_str()); rc != 0) {
            error = "trust anchor " + file + ": " + ub_strerror(rc);
            return false;
        }
    }
    return true;
}

}  // namespace

// libunbound's log written to memory, for the error sentence of a check.
struct memory_log {
    char* text = nullptr;
    std::size_t size = 0;
    std::FILE* file = open_memstream(&text, &size);
    memory_log() = default;
    memory_log(const memory_log&) = delete;
    memory_log& operator=(const memory_log&) = delete;
    ~memory_log() {
        if (file) std::fclose(file);
        std::free(text);
    }
    // The last line written, without its newline.
    std::string last_line() {
        if (!file) return {};
        std::fflush(file);
        std::string all(text ? text : "", size);
        while (!all.empty() && (all.back() == '\n' || all.back() == ' ')) all.pop_back();
        const auto nl = all.rfind('\n');
        return nl == std::string::npos ? all : all.substr(nl + 1);
    }
};

std::optional<std::string> check_resolver_settings(const resolver_settings& settings) {
    for (const auto& file : settings.trust_anchors) {
        std::unique_ptr<std::FILE, file_closer> f(std::fopen(file.c_str(), "r"));
        if (!f) return "trust anchor " + file + " cannot be read: " + std::strerror(errno);
    }
    memory_log log;  // declared before the context, which may write to it until deleted
    std::unique_ptr<ub_ctx, ub_ctx_deleter> ctx(ub_ctx_create());
    if (!ctx) return std::string("libunbound: cannot create a context");
    if (log.file) ub_ctx_debugout(ctx.get(), log.file);
    std::string error;
    if (!configure(ctx.get(), settings, error)) return error;
    // The anchors are read when the context is finalized by its first
    // lookup; "localhost." is answered by libunbound's built-in local zone,
    // so nothing is sent.
    ub_result* result = nullptr;
    const int rc = ub_resolve(ctx.get(), "localhost.", rr_a, class_in, &result);
    ub_resolve_free(result);
    ctx.reset();
    if (rc == 0) return std::nullopt;
    const auto logged = log.last_line();
    return "trust anchors do not load: " + (logged.empty() ? std::string(ub_strerror(rc)) : logged);
}

class dns_resolver::core : public std::enable_shared_from_this<core> {
public:
    explicit core(const asio::any_io_executor& executor) : executor_(executor), pipe_(executor) {}
    ~core() { shutdown(); }

    bool init(const resolver_settings& settings, std::string& error) {
        ctx_.reset(ub_ctx_create());
        if (!ctx_) {
            error = "libunbound: cannot create a context";
            return false;
        }
        // libunbound's own log (errors only) would go to stderr, bypassing
        // ours; every failure reaches us as a status instead.
        quiet_.reset(std::fopen("/dev/null", "w"));
        if (quiet_) ub_ctx_debugout(ctx_.get(), quiet_.get());
        if (!configure(ctx_.get(), settings, error)) return false;
        boost::system::error_code ec;
        pipe_.assign(ub_fd(ctx_.get()), ec);
        if (ec) {
            error = "libunbound result pipe: " + ec.message();
            return false;
        }
        bound_ = settings.timeout * settings.tries;
        for (const auto& s : settings.servers) servers_ += (servers_.empty() ? "" : ",") + s;
        if (servers_.empty()) servers_ = "those of /etc/resolv.conf";
        validating_ = settings.trust_anchors.size();
        return true;
    }

    void shutdown() {
        std::unordered_map<std::uint64_t, std::unique_ptr<lookup>> pending;
        pending.swap(lookups_);
        for (auto& [key, l] : pending) {
            if (ctx_) ub_cancel(ctx_.get(), l->async_id);
            routing::rdata_answer a;
            a.status = dns_status::cancelled;
            deliver(*l, std::move(a), false);
        }
        if (pipe_.is_open()) pipe_.release();  // libunbound closes its pipe
        ctx_.reset();                            // joins the worker thread
        quiet_.reset();
    }

    void start(raw_handler handler, const std::string& name, int type) {
        auto l = std::make_unique<lookup>(executor_);
        l->owner = this;
        l->key = next_key_++;
        l->handler.swap(handler);
        if (!ctx_) {
            routing::rdata_answer a;
            a.status = dns_status::cancelled;
            deliver(*l, std::move(a), false);
            return;
        }
        const int rc = ub_resolve_async(ctx_.get(), name.c_str(), type, class_in, l.get(), &core::on_result,
                                        &l->async_id);
        if (rc != 0) {
            routing::rdata_answer a;
            a.status = dns_status::failure;
            a.why_bogus = ub_strerror(rc);
            deliver(*l, std::move(a), false);
            return;
        }
        const auto key = l->key;
        auto slot = asio::get_associated_cancellation_slot(l->handler);
        if (slot.is_connected())
            slot.assign([weak = weak_from_this(), key](asio::cancellation_type) {
                if (auto self = weak.lock()) self->abandon(key, dns_status::cancelled, true);
            });
        l->timer.expires_after(bound_);
        l->timer.async_wait([weak = weak_from_this(), key](boost::system::error_code ec) {
            if (ec) return;
            if (auto self = weak.lock()) self->abandon(key, dns_status::timeout, false);
        });
        lookups_.emplace(key, std::move(l));
        wait_for_results();
    }

    std::string describe() const {
        return servers_ + (validating_ ? ", DNSSEC validation with " + std::to_string(validating_) +
                                             (validating_ == 1 ? " trust anchor file" : " trust anchor files")
                                       : ", no DNSSEC validation (no trust anchors)");
    }

private:
    struct lookup {
        explicit lookup(const asio::any_io_executor& ex) : timer(ex) {}
        core* owner = nullptr;
        std::uint64_t key = 0;
        int async_id = 0;
        raw_handler handler;
        asio::steady_timer timer;
    };

    // Hands the answer to the waiting coroutine, once, never from inside
    // the libunbound call that produced it. `from_slot`: called by the
    // cancellation slot itself, which must not clear itself.
    void deliver(lookup& l, routing::rdata_answer answer, bool from_slot) {
        l.timer.cancel();
        if (!l.handler) return;
        raw_handler h;
        h.swap(l.handler);
        if (!from_slot) {
            auto slot = asio::get_associated_cancellation_slot(h);
            if (slot.is_connected()) slot.clear();
        }
        asio::post(executor_, [h = std::move(h), a = std::move(answer)]() mutable { std::move(h)(std::move(a)); });
    }

    // The deadline or the caller ends a query libunbound still works on.
    void abandon(std::uint64_t key, dns_status why, bool from_slot) {
        auto it = lookups_.find(key);
        if (it == lookups_.end()) return;
        auto l = std::move(it->second);
        lookups_.erase(it);
        ub_cancel(ctx_.get(), l->async_id);
        routing::rdata_answer a;
        a.status = why;
        deliver(*l, std::move(a), from_slot);
    }

    static void on_result(void* data, int err, ub_result* result) {
        auto* l = static_cast<lookup*>(data);
        auto answer = to_answer(err, result);
        ub_resolve_free(result);
        core& self = *l->owner;
        auto it = self.lookups_.find(l->key);
        if (it == self.lookups_.end()) return;  // cannot happen: cancelled queries get no callback
        auto owned = std::move(it->second);
        self.lookups_.erase(it);
        self.deliver(*owned, std::move(answer), false);
    }

    void wait_for_results() {
        if (waiting_ || lookups_.empty()) return;
        waiting_ = true;
        pipe_.async_wait(asio::posix::descriptor_base::wait_read, [weak = weak_from_this()](boost::system::error_code ec) {
            auto self = weak.lock();
            if (!self) return;
            self->waiting_ = false;
            if (ec == asio::error::operation_aborted || !self->ctx_) return;
            ub_process(self->ctx_.get());
            self->wait_for_results();
        });
    }

    asio::any_io_executor executor_;
    asio::posix::stream_descriptor pipe_;
    std::unique_ptr<std::FILE, file_closer> quiet_;  // outlives ctx_ (declared first, destroyed last)
    std::unique_ptr<ub_ctx, ub_ctx_deleter> ctx_;
    std::unordered_map<std::uint64_t, std::unique_ptr<lookup>> lookups_;
    std::uint64_t next_key_ = 1;
    bool waiting_ = false;
    std::chrono::steady_clock::duration bound_{};
    std::string servers_;
    std::size_t validating_ = 0;
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

namespace {

// The initiation captures a plain pointer: it runs inside async_initiate,
// while the resolver is alive. (A lambda capturing a shared_ptr inside the
// co_await expression is destroyed twice by g++ 12's coroutines.)
asio::awaitable<routing::rdata_answer> raw_lookup(dns_resolver::core* c, std::string name, int type) {
    auto initiation = [c](raw_handler handler, const std::string& n, int t) { c->start(std::move(handler), n, t); };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(routing::rdata_answer)>(
        initiation, asio::use_awaitable, std::move(name), type);
}

routing::family_answer family_of(const routing::rdata_answer& a, ip_family family,
                                 std::vector<routing::host_address>& out) {
    routing::family_answer f{a.status, a.secure, a.canonical};
    for (const auto& r : a.rdata) {
        if (auto address = routing::decode_address(family, r)) out.push_back(std::move(*address));
        else f.status = dns_status::malformed;
    }
    if (f.status == dns_status::malformed) out.clear();
    return f;
}

}  // namespace

asio::awaitable<routing::mx_answer> dns_resolver::query_mx(std::string domain) {
    const auto raw = co_await raw_lookup(core_.get(), std::move(domain), rr_mx);
    routing::mx_answer answer{raw.status, {}, raw.secure};
    for (const auto& r : raw.rdata) {
        auto mx = routing::decode_mx(r);
        if (!mx) {
            answer.status = dns_status::malformed;
            answer.records.clear();
            break;
        }
        answer.records.push_back(std::move(*mx));
    }
    co_return answer;
}

asio::awaitable<routing::address_answer> dns_resolver::resolve_host(std::string host, routing::family_set families) {
    using routing::family_set;
    if (auto family = routing::ip_literal_family(host))
        co_return routing::combine_families(dns_status::ok, dns_status::ok, {{*family, host}});
    std::vector<routing::host_address> addresses;
    std::optional<routing::family_answer> v4, v6;
    if (families == family_set::both) {
        using namespace asio::experimental::awaitable_operators;
        auto [a, aaaa] = co_await (raw_lookup(core_.get(), host, rr_a) && raw_lookup(core_.get(), host, rr_aaaa));
        v4 = family_of(a, ip_family::ipv4, addresses);
        v6 = family_of(aaaa, ip_family::ipv6, addresses);
    } else if (families == family_set::ipv4) {
        v4 = family_of(co_await raw_lookup(core_.get(), std::move(host), rr_a), ip_family::ipv4, addresses);
    } else {
        v6 = family_of(co_await raw_lookup(core_.get(), std::move(host), rr_aaaa), ip_family::ipv6, addresses);
    }
    co_return routing::combine_families(v4, v6, std::move(addresses));
}

asio::awaitable<routing::rdata_answer> dns_resolver::query_tlsa(std::string name) {
    co_return co_await raw_lookup(core_.get(), std::move(name), rr_tlsa);
}

asio::awaitable<routing::rdata_answer> dns_resolver::query_txt(std::string name) {
    co_return co_await raw_lookup(core_.get(), std::move(name), rr_txt);
}

std::string dns_resolver::describe() const { return core_->describe(); }

}  // namespace dsproxy::net
