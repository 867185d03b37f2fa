// redis_store — the shared policy_store of a fleet (docs/design.md §6.4
// `store: {redis: "redis://host:port/db"}`), on hiredis.
//
// Owns: the key layout (all under "dsproxy:"), and the Redis commands that
// give policy_store's guarantees across instances:
//   dsproxy:sts:policy:D            hash id/body/fetched_at/expires_at, EXPIREAT expiry
//   dsproxy:sts:fetch:D             SET owner NX EX hold        — one fetcher
//   dsproxy:tlsrpt:DAY:domains      set of domains counted that day
//   dsproxy:tlsrpt:DAY:D:record     the `_smtp._tls` record
//   dsproxy:tlsrpt:DAY:D:counts     hash key -> count, HINCRBY in MULTI/EXEC
//   dsproxy:tlsrpt:DAY:D:report     "claimed OWNER" (SET NX) / "sent OWNER"
//   dsproxy:starttls:D              SET 1 EX forget_after
// Day keys expire counter_retention_seconds after they were last written.
// Must not: be called from an I/O thread while a session waits; every call
// is bounded by the connect and command timeouts, and a broken connection
// is reopened by the next call (one mutex serialises callers).
#pragma once

#include "proxy/store/policy_store.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

struct redisContext;
struct redisReply;

namespace dsproxy::store {

struct redis_endpoint {
    std::string host;
    std::uint16_t port = 6379;
    unsigned db = 0;
};

class redis_store final : public policy_store {
public:
    // Connects (and SELECTs the database) lazily: open never fails, a Redis
    // that is down makes each call return store_status::unavailable.
    redis_store(redis_endpoint endpoint, std::chrono::milliseconds timeout);
    ~redis_store() override;

    std::string describe() const override;
    store_result<std::optional<cached_policy>> load_policy(std::string_view domain) override;
    store_error save_policy(const cached_policy& policy) override;
    store_result<bool> claim_fetch(std::string_view domain, std::string_view owner, std::int64_t now,
                                   std::int64_t hold) override;
    store_error release_fetch(std::string_view domain, std::string_view owner) override;
    store_error add_counts(std::string_view day, std::string_view domain, std::string_view record,
                           const std::vector<sts::tlsrpt_count>& batch) override;
    store_result<std::vector<std::string>> report_domains(std::string_view day) override;
    store_result<day_counts> load_counts(std::string_view day, std::string_view domain) override;
    store_result<bool> claim_report(std::string_view day, std::string_view domain, std::string_view owner,
                                    std::int64_t now, std::int64_t hold) override;
    store_error finish_report(std::string_view day, std::string_view domain, std::string_view owner,
                              bool sent) override;
    store_result<report_claim> report_status(std::string_view day, std::string_view domain) override;
    store_error remember_starttls(std::string_view domain, std::int64_t now, std::int64_t forget_after) override;
    store_result<bool> starttls_remembered(std::string_view domain, std::int64_t now) override;

private:
    // A reply; the elements of an EXEC array share their parent's ownership.
    using reply_ptr = std::shared_ptr<const redisReply>;

    struct context_closer {
        void operator()(redisContext* c) const noexcept;
    };
    store_error connect();
    // Runs the commands as one MULTI/EXEC transaction when `atomic`, else
    // pipelined; the replies in order (EXEC's array unpacked).
    store_result<std::vector<reply_ptr>> call(const std::vector<std::vector<std::string>>& commands,
                                                           bool atomic = false);

    redis_endpoint endpoint_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<redisContext, context_closer> context_;
    std::mutex mutex_;
};

}  // namespace dsproxy::store
