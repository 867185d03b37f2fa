// sts_service — see sts_service.hpp.
#include "proxy/engine/sts_service.hpp"

#include "proxy/net/policy_fetcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <ctime>

namespace dsproxy::engine {

namespace {

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// How often a session that did not get the fetch claim looks whether the
// holder has stored the policy.
constexpr auto claim_poll = std::chrono::milliseconds(100);

}  // namespace

sts_service::sts_service(std::unique_ptr<store::policy_store> store, std::shared_ptr<const tls::trust_store> trust,
                         tls::client_context https, sts_service_settings settings)
    : store_(std::move(store)), trust_(std::move(trust)), https_(std::move(https)), settings_(std::move(settings)) {}

sts_service::~sts_service() {
    worker_.join();
}

std::string sts_service::describe() const {
    return store_ ? store_->describe() : std::string("memory only (no store)");
}

template <class F>
asio::awaitable<std::invoke_result_t<F>> sts_service::on_store(F f) {
    using R = std::invoke_result_t<F>;
    // Every closure named before the co_await that takes it: g++ 12 destroys
    // a closure temporary of a co_await's operand twice (the probe crashed so).
    auto task = [f = std::move(f)]() mutable -> asio::awaitable<R> { co_return f(); };
    auto result = co_await asio::co_spawn(worker_.get_executor(), std::move(task), asio::use_awaitable);
    co_return result;
}

void sts_service::remember(const std::string& domain, const sts::known_policy& p) {
    std::lock_guard lock(mutex_);
    memory_.insert_or_assign(domain, p);
}

asio::awaitable<std::optional<sts::known_policy>> sts_service::cached(const std::string& domain, std::string& detail) {
    {
        std::lock_guard lock(mutex_);
        if (const auto it = memory_.find(domain); it != memory_.end()) co_return it->second;
    }
    if (!store_) co_return std::nullopt;
    auto* s = store_.get();
    auto load = [s, domain] { return s->load_policy(domain); };
    auto row = co_await on_store(std::move(load));
    if (!row.ok()) {
        detail = "store: " + row.error.detail;
        co_return std::nullopt;
    }
    if (!row.value) co_return std::nullopt;
    auto known = known_of(*row.value);
    if (!known) {
        detail = "store: the cached policy no longer parses; ignored";
        co_return std::nullopt;
    }
    remember(domain, *known);
    co_return known;
}

asio::awaitable<sts_lookup> sts_service::lookup(std::string domain, net::dns_resolver& resolver) {
    sts_lookup out;
    const auto txt = txt_lookup_of(co_await resolver.query_txt("_mta-sts." + domain));
    const auto known = co_await cached(domain, out.detail);
    const auto now = unix_now();
    out.action = sts::decide(now, known, txt);
    switch (out.action) {
    case sts::cache_action::no_policy: out.outcome = sts::without_fetch(std::nullopt); break;
    case sts::cache_action::use_cached: out.outcome = sts::without_fetch(known); break;
    case sts::cache_action::use_cached_refresh: {
        out.outcome = sts::without_fetch(known);
        // The address is looked up here, on the caller's resolver; the fetch
        // runs on its own, and nobody waits for it.
        const auto answer = co_await resolver.resolve_host("mta-sts." + domain);
        std::vector<std::string> addresses;
        for (const auto& a : answer.addresses) addresses.push_back(a.text);
        if (!addresses.empty())
            asio::co_spawn(co_await asio::this_coro::executor,
                           refresh(shared_from_this(), domain, known->id, std::move(addresses)), asio::detached);
        break;
    }
    case sts::cache_action::fetch_first: {
        auto fetched = co_await fetch(domain, txt.record.id, known, resolver);
        if (out.detail.empty()) out.detail = std::move(fetched.detail);
        out.outcome = std::move(fetched.outcome);
        out.fetched = fetched.fetched;
        break;
    }
    }
    co_return out;
}

asio::awaitable<sts_lookup> sts_service::fetch(const std::string& domain, const std::string& id,
                                               const std::optional<sts::known_policy>& known,
                                               net::dns_resolver& resolver) {
    sts_lookup out;
    out.action = sts::cache_action::fetch_first;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + settings_.fetch_deadline;
    bool claimed = true;
    auto* s = store_.get();
    if (s) {
        auto claim_it = [s, domain, owner = settings_.owner, hold = settings_.claim_hold] {
            return s->claim_fetch(domain, owner, unix_now(), hold);
        };
        const auto claim = co_await on_store(std::move(claim_it));
        // A store that cannot be asked does not stop the fetch.
        claimed = !claim.ok() || claim.value;
    }
    if (!claimed) {
        // Another session or instance fetches it: wait for its result.
        asio::steady_timer timer(co_await asio::this_coro::executor);
        while (std::chrono::steady_clock::now() + claim_poll < deadline) {
            timer.expires_after(claim_poll);
            co_await timer.async_wait(asio::use_awaitable);
            {
                std::lock_guard lock(mutex_);
                if (const auto it = memory_.find(domain); it != memory_.end() && it->second.id == id) {
                    out.outcome = sts::after_fetch(unix_now(), known, it->second, sts::fetch_error::none);
                    out.fetched = true;
                    co_return out;
                }
            }
            auto load = [s, domain] { return s->load_policy(domain); };
            auto row = co_await on_store(std::move(load));
            if (row.ok() && row.value && row.value->id == id)
                if (auto p = known_of(*row.value)) {
                    remember(domain, *p);
                    out.outcome = sts::after_fetch(unix_now(), known, p, sts::fetch_error::none);
                    out.fetched = true;
                    co_return out;
                }
        }
        out.detail = "another fetch of the policy did not finish in time";
        out.outcome = sts::after_fetch(unix_now(), known, std::nullopt, sts::fetch_error::timeout);
        co_return out;
    }
    out.fetched = true;
    const auto answer = co_await resolver.resolve_host("mta-sts." + domain);
    std::vector<std::string> addresses;
    for (const auto& a : answer.addresses) addresses.push_back(a.text);
    sts::policy_judgement judged;
    const auto left = deadline - std::chrono::steady_clock::now();
    if (addresses.empty()) {
        judged.error = sts::fetch_error::connect;
        judged.detail = "mta-sts." + domain + " has no address";
    } else if (left <= std::chrono::steady_clock::duration::zero()) {
        judged.error = sts::fetch_error::timeout;
        judged.detail = "no time left for the fetch";
    } else {
        judged = co_await net::fetch_policy(domain, id, unix_now(), std::move(addresses),
                                            net::https_context{https_, *trust_}, left, settings_.port);
    }
    if (judged.policy) {
        remember(domain, *judged.policy);
        if (s) {
            const auto row = row_of(domain, *judged.policy);
            auto save = [s, row] { return s->save_policy(row); };
            const auto saved = co_await on_store(std::move(save));
            if (!saved.ok()) out.detail = "store: " + saved.detail;
        }
    } else {
        out.detail = judged.detail;
    }
    if (s) {
        auto release = [s, domain, owner = settings_.owner] { return s->release_fetch(domain, owner); };
        co_await on_store(std::move(release));
    }
    out.outcome = sts::after_fetch(unix_now(), known, judged.policy, judged.error);
    co_return out;
}

asio::awaitable<void> sts_service::refresh(std::shared_ptr<sts_service> self, std::string domain, std::string id,
                                           std::vector<std::string> addresses) {
    auto* s = self->store_.get();
    const auto& settings_ = self->settings_;
    if (s) {
        auto claim_it = [s, domain, owner = settings_.owner, hold = settings_.claim_hold] {
            return s->claim_fetch(domain, owner, unix_now(), hold);
        };
        const auto claim = co_await self->on_store(std::move(claim_it));
        if (claim.ok() && !claim.value) co_return;  // someone else refreshes it
    }
    const auto judged = co_await net::fetch_policy(domain, id, unix_now(), std::move(addresses),
                                                   net::https_context{self->https_, *self->trust_},
                                                   settings_.fetch_deadline,
                                                   settings_.port);
    // A failed refresh changes nothing: the cached policy is used until it expires.
    if (judged.policy) {
        self->remember(domain, *judged.policy);
        if (s) {
            const auto row = row_of(domain, *judged.policy);
            auto save = [s, row] { return s->save_policy(row); };
            co_await self->on_store(std::move(save));
        }
    }
    if (s) {
        auto release = [s, domain, owner = settings_.owner] { return s->release_fetch(domain, owner); };
        co_await self->on_store(std::move(release));
    }
}

}  // namespace dsproxy::engine
