// sqlite_store — the embedded policy_store: one SQLite file in the state
// directory (docs/design.md §6.4 `store: {path: ...}`).
//
// Owns: the schema, its version (PRAGMA user_version) and every statement.
// WAL journal with synchronous=NORMAL: a write is one transaction that a
// crash (kill -9, tests/store/crash_test) either keeps whole or loses
// whole, and never corrupts the file; readers do not block the writer.
// Several processes on one host may open the same file (busy_timeout lets
// them take turns), which is what makes claim_fetch/claim_report hold for
// them too.
// Must not: be called from an I/O thread while a session waits (see
// policy_store.hpp); it serialises its own callers with a mutex.
#pragma once

#include "proxy/store/policy_store.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

struct sqlite3;

namespace dsproxy::store {

class sqlite_store final : public policy_store {
public:
    // Opens (creating it and its schema when missing) the database at
    // `path`. nullptr with `error` set when that fails.
    static std::unique_ptr<sqlite_store> open(const std::string& path, std::chrono::milliseconds busy_timeout,
                                              std::string& error);
    ~sqlite_store() override;

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
    struct db_closer {
        void operator()(sqlite3* db) const noexcept;
    };
    sqlite_store(std::unique_ptr<sqlite3, db_closer> db, std::string path);

    std::unique_ptr<sqlite3, db_closer> db_;
    std::string path_;
    std::mutex mutex_;
};

}  // namespace dsproxy::store
