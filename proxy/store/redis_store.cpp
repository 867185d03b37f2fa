// redis_store — see redis_store.hpp.
#include "proxy/store/redis_store.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <sys/time.h>

namespace dsproxy::store {

namespace {

using command = std::vector<std::string>;

std::string policy_key(std::string_view d) { return "dsproxy:sts:policy:" + std::string(d); }
std::string fetch_key(std::string_view d) { return "dsproxy:sts:fetch:" + std::string(d); }
std::string day_key(std::string_view day, std::string_view d, std::string_view what) {
    return "dsproxy:tlsrpt:" + std::string(day) + ':' + std::string(d) + ':' + std::string(what);
}
std::string domains_key(std::string_view day) { return "dsproxy:tlsrpt:" + std::string(day) + ":domains"; }
std::string starttls_key(std::string_view d) { return "dsproxy:starttls:" + std::string(d); }

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

std::string text_of(const redisReply* r) {
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
               ? std::string(r->str, r->len)
               : std::string();
}

bool is_nil(const redisReply* r) { return !r || r->type == REDIS_REPLY_NIL; }

// Lua: release or finish a claim only when it is still ours (a lapsed claim
// may have gone to another instance meanwhile).
constexpr const char* release_if_owner =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
constexpr const char* finish_if_owner =
    "if redis.call('GET', KEYS[1]) == 'claimed ' .. ARGV[1] then "
    "  if ARGV[2] == '1' then return redis.call('SET', KEYS[1], 'sent ' .. ARGV[1], 'EX', ARGV[3]) end "
    "  return redis.call('DEL', KEYS[1]) end return 0";

}  // namespace

void redis_store::context_closer::operator()(redisContext* c) const noexcept { redisFree(c); }

redis_store::redis_store(redis_endpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

redis_store::~redis_store() = default;

std::string redis_store::describe() const {
    return "redis " + endpoint_.host + ':' + std::to_string(endpoint_.port) + '/' + std::to_string(endpoint_.db);
}

store_error redis_store::connect() {
    if (context_ && context_->err == 0) return {};
    context_.reset(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, to_timeval(timeout_)));
    if (!context_) return {store_status::unavailable, "redis: out of memory"};
    if (context_->err != 0) {
        store_error e{store_status::unavailable, "redis " + describe().substr(6) + ": " + context_->errstr};
        context_.reset();
        return e;
    }
    redisSetTimeout(context_.get(), to_timeval(timeout_));
    if (endpoint_.db != 0) {
        const auto r = call({{"SELECT", std::to_string(endpoint_.db)}});
        if (!r.ok()) return r.error;
    }
    return {};
}

store_result<std::vector<redis_store::reply_ptr>> redis_store::call(const std::vector<command>& commands, bool atomic) {
    if (!context_ || context_->err != 0) {
        // SELECT runs through here from connect() once the context is set.
        if (auto e = connect(); !e.ok()) return {{}, e};
    }
    std::vector<command> all;
    if (atomic) all.push_back({"MULTI"});
    all.insert(all.end(), commands.begin(), commands.end());
    if (atomic) all.push_back({"EXEC"});
    for (const auto& c : all) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lengths;
        for (const auto& a : c) {
            argv.push_back(a.data());
            lengths.push_back(a.size());
        }
        redisAppendCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data());
    }
    std::vector<reply_ptr> replies;
    for (std::size_t i = 0; i < all.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(context_.get(), &raw) != REDIS_OK || !raw) {
            store_error e{store_status::unavailable, "redis " + describe().substr(6) + ": " + context_->errstr};
            context_.reset();  // the stream is out of step: reconnect next time
            return {{}, e};
        }
        replies.emplace_back(static_cast<const redisReply*>(raw),
                             [](const redisReply* r) { freeReplyObject(const_cast<redisReply*>(r)); });
    }
    for (const auto& r : replies)
        if (r->type == REDIS_REPLY_ERROR) return {{}, {store_status::failed, "redis: " + text_of(r.get())}};
    if (!atomic) return {std::move(replies), {}};
    const auto exec = replies.back();
    if (exec->type != REDIS_REPLY_ARRAY) return {{}, {store_status::failed, "redis: transaction aborted"}};
    std::vector<reply_ptr> inner;
    for (std::size_t i = 0; i < exec->elements; ++i) {
        inner.emplace_back(exec, exec->element[i]);
        if (exec->element[i]->type == REDIS_REPLY_ERROR)
            return {{}, {store_status::failed, "redis: " + text_of(exec->element[i])}};
    }
    return {std::move(inner), {}};
}

store_result<std::optional<cached_policy>> redis_store::load_policy(std::string_view domain) {
    const std::lock_guard lock(mutex_);
    const auto r = call({{"HMGET", policy_key(domain), "id", "body", "fetched_at", "expires_at"}});
    if (!r.ok()) return {{}, r.error};
    const auto& a = r.value.at(0);
    if (a->type != REDIS_REPLY_ARRAY || a->elements != 4) return {{}, {store_status::failed, "redis: bad HMGET reply"}};
    if (std::any_of(a->element, a->element + 4, [](const redisReply* e) { return is_nil(e); })) return {std::nullopt, {}};
    cached_policy p{std::string(domain), text_of(a->element[0]), text_of(a->element[1]), 0, 0};
    try {
        p.fetched_at = std::stoll(text_of(a->element[2]));
        p.expires_at = std::stoll(text_of(a->element[3]));
    } catch (const std::exception&) {
        return {{}, {store_status::failed, "redis: unreadable policy times for " + std::string(domain)}};
    }
    return {std::move(p), {}};
}

store_error redis_store::save_policy(const cached_policy& p) {
    const std::lock_guard lock(mutex_);
    const auto key = policy_key(p.domain);
    return call({{"HSET", key, "id", p.id, "body", p.body, "fetched_at", std::to_string(p.fetched_at), "expires_at",
                  std::to_string(p.expires_at)},
                 {"EXPIREAT", key, std::to_string(p.expires_at)}},
                true)
        .error;
}

store_result<bool> redis_store::claim_fetch(std::string_view domain, std::string_view owner, std::int64_t,
                                            std::int64_t hold) {
    const std::lock_guard lock(mutex_);
    const auto r = call({{"SET", fetch_key(domain), std::string(owner), "NX", "EX", std::to_string(std::max<std::int64_t>(hold, 1))}});
    if (!r.ok()) return {false, r.error};
    return {!is_nil(r.value.at(0).get()), {}};
}

store_error redis_store::release_fetch(std::string_view domain, std::string_view owner) {
    const std::lock_guard lock(mutex_);
    return call({{"EVAL", release_if_owner, "1", fetch_key(domain), std::string(owner)}}).error;
}

store_error redis_store::add_counts(std::string_view day, std::string_view domain, std::string_view record,
                                    const std::vector<sts::tlsrpt_count>& batch) {
    const std::lock_guard lock(mutex_);
    const auto counts = day_key(day, domain, "counts");
    const auto record_key = day_key(day, domain, "record");
    const auto ttl = std::to_string(counter_retention_seconds);
    std::vector<command> commands{{"SADD", domains_key(day), std::string(domain)},
                                  {"EXPIRE", domains_key(day), ttl},
                                  {"SET", record_key, std::string(record), "EX", ttl}};
    for (const auto& c : batch) commands.push_back({"HINCRBY", counts, sts::encode(c.key), std::to_string(c.count)});
    commands.push_back({"EXPIRE", counts, ttl});
    return call(commands, true).error;
}

store_result<std::vector<std::string>> redis_store::report_domains(std::string_view day) {
    const std::lock_guard lock(mutex_);
    const auto r = call({{"SMEMBERS", domains_key(day)}});
    if (!r.ok()) return {{}, r.error};
    std::vector<std::string> out;
    const auto& a = r.value.at(0);
    for (std::size_t i = 0; a->type == REDIS_REPLY_ARRAY && i < a->elements; ++i) out.push_back(text_of(a->element[i]));
    std::sort(out.begin(), out.end());
    return {std::move(out), {}};
}

store_result<day_counts> redis_store::load_counts(std::string_view day, std::string_view domain) {
    const std::lock_guard lock(mutex_);
    const auto r = call({{"GET", day_key(day, domain, "record")}, {"HGETALL", day_key(day, domain, "counts")}}, true);
    if (!r.ok()) return {{}, r.error};
    day_counts out;
    out.record = text_of(r.value.at(0).get());
    const auto& a = r.value.at(1);
    for (std::size_t i = 0; a->type == REDIS_REPLY_ARRAY && i + 1 < a->elements; i += 2) {
        auto key = sts::decode_key(text_of(a->element[i]));
        if (!key) return {{}, {store_status::failed, "redis: unreadable TLS-RPT counter key"}};
        std::uint64_t n = 0;
        try {
            n = std::stoull(text_of(a->element[i + 1]));
        } catch (const std::exception&) {
            return {{}, {store_status::failed, "redis: unreadable TLS-RPT count"}};
        }
        out.counts.push_back({std::move(*key), n});
    }
    std::sort(out.counts.begin(), out.counts.end(),
              [](const sts::tlsrpt_count& x, const sts::tlsrpt_count& y) { return encode(x.key) < encode(y.key); });
    return {std::move(out), {}};
}

store_result<bool> redis_store::claim_report(std::string_view day, std::string_view domain, std::string_view owner,
                                             std::int64_t, std::int64_t hold) {
    const std::lock_guard lock(mutex_);
    const auto r = call({{"SET", day_key(day, domain, "report"), "claimed " + std::string(owner), "NX", "EX",
                          std::to_string(std::max<std::int64_t>(hold, 1))}});
    if (!r.ok()) return {false, r.error};
    return {!is_nil(r.value.at(0).get()), {}};
}

store_error redis_store::finish_report(std::string_view day, std::string_view domain, std::string_view owner,
                                       bool sent) {
    const std::lock_guard lock(mutex_);
    return call({{"EVAL", finish_if_owner, "1", day_key(day, domain, "report"), std::string(owner), sent ? "1" : "0",
                  std::to_string(counter_retention_seconds)}})
        .error;
}

store_result<report_claim> redis_store::report_status(std::string_view day, std::string_view domain) {
    const std::lock_guard lock(mutex_);
    const auto r = call({{"GET", day_key(day, domain, "report")}});
    if (!r.ok()) return {{}, r.error};
    const std::string v = text_of(r.value.at(0).get());
    const auto space = v.find(' ');
    if (space == std::string::npos) return {{}, {}};
    const auto word = v.substr(0, space);
    return {{word == "sent" ? report_state::sent : report_state::claimed, v.substr(space + 1)}, {}};
}

store_error redis_store::remember_starttls(std::string_view domain, std::int64_t, std::int64_t forget_after) {
    const std::lock_guard lock(mutex_);
    return call({{"SET", starttls_key(domain), "1", "EX", std::to_string(std::max<std::int64_t>(forget_after, 1))}})
        .error;
}

store_result<bool> redis_store::starttls_remembered(std::string_view domain, std::int64_t) {
    const std::lock_guard lock(mutex_);
    const auto r = call({{"EXISTS", starttls_key(domain)}});
    if (!r.ok()) return {false, r.error};
    return {r.value.at(0)->integer == 1, {}};
}

}  // namespace dsproxy::store
