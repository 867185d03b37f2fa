// sqlite_store — see sqlite_store.hpp.
#include "proxy/store/sqlite_store.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <initializer_list>
#include <variant>

namespace dsproxy::store {

namespace {

// Schema version 1. New tables or columns: bump user_version and migrate.
constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS sts_policy(
  domain TEXT PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL,
  fetched_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sts_fetch_claim(
  domain TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tlsrpt_domain(
  day TEXT NOT NULL, domain TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY(day, domain));
CREATE TABLE IF NOT EXISTS tlsrpt_count(
  day TEXT NOT NULL, domain TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY(day, domain, key));
CREATE TABLE IF NOT EXISTS tlsrpt_report(
  day TEXT NOT NULL, domain TEXT NOT NULL, owner TEXT NOT NULL, sent INTEGER NOT NULL, until INTEGER NOT NULL,
  PRIMARY KEY(day, domain));
CREATE TABLE IF NOT EXISTS starttls_seen(domain TEXT PRIMARY KEY, until INTEGER NOT NULL);
PRAGMA user_version = 1;
)sql";

struct stmt_finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using statement = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

using bind_value = std::variant<std::string_view, std::int64_t>;

store_error sql_error(sqlite3* db, std::string_view what) {
    const int code = sqlite3_errcode(db);
    const bool busy = code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_CANTOPEN ||
                      code == SQLITE_IOERR || code == SQLITE_FULL;
    return {busy ? store_status::unavailable : store_status::failed,
            std::string(what) + ": " + sqlite3_errmsg(db)};
}

// Prepares `sql` and binds `values` to ?1, ?2, ...
statement prepare(sqlite3* db, const char* sql, std::initializer_list<bind_value> values) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) return nullptr;
    statement s(raw);
    int i = 1;
    for (const auto& v : values) {
        const int rc = std::holds_alternative<std::int64_t>(v)
                           ? sqlite3_bind_int64(raw, i, std::get<std::int64_t>(v))
                           : sqlite3_bind_text(raw, i, std::get<std::string_view>(v).data(),
                                               static_cast<int>(std::get<std::string_view>(v).size()),
                                               SQLITE_TRANSIENT);
        if (rc != SQLITE_OK) return nullptr;
        ++i;
    }
    return s;
}

// Runs a statement that returns no rows; the number of rows it changed.
store_result<int> run(sqlite3* db, const char* sql, std::initializer_list<bind_value> values) {
    const auto s = prepare(db, sql, values);
    if (!s) return {0, sql_error(db, "prepare")};
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return {0, sql_error(db, "write")};
    return {sqlite3_changes(db), {}};
}

std::string column_text(sqlite3_stmt* s, int i) {
    const auto* text = sqlite3_column_text(s, i);
    return text ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
                : std::string();
}

// BEGIN IMMEDIATE ... COMMIT, rolled back if the body fails or throws.
class transaction {
public:
    explicit transaction(sqlite3* db) : db_(db) { error_ = run(db_, "BEGIN IMMEDIATE", {}).error; }
    ~transaction() {
        if (!done_ && error_.ok()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    const store_error& begun() const noexcept { return error_; }
    store_error commit() {
        done_ = true;
        return run(db_, "COMMIT", {}).error;
    }

private:
    sqlite3* db_;
    store_error error_;
    bool done_ = false;
};

}  // namespace

void sqlite_store::db_closer::operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }

sqlite_store::sqlite_store(std::unique_ptr<sqlite3, db_closer> db, std::string path)
    : db_(std::move(db)), path_(std::move(path)) {}

sqlite_store::~sqlite_store() = default;

std::unique_ptr<sqlite_store> sqlite_store::open(const std::string& path, std::chrono::milliseconds busy_timeout,
                                                 std::string& error) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    std::unique_ptr<sqlite3, db_closer> db(raw);
    if (rc != SQLITE_OK) {
        error = "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
        return nullptr;
    }
    sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
    char* message = nullptr;
    const auto exec = [&](const char* sql) {
        if (sqlite3_exec(raw, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
        error = path + ": " + (message ? message : "error");
        sqlite3_free(message);
        return false;
    };
    // WAL: a crash mid-write leaves the last committed state (tests/store).
    if (!exec("PRAGMA journal_mode=WAL") || !exec("PRAGMA synchronous=NORMAL") || !exec("BEGIN IMMEDIATE") ||
        !exec(schema) || !exec("COMMIT"))
        return nullptr;
    return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(db), path));
}

std::string sqlite_store::describe() const { return "sqlite " + path_; }

store_result<std::optional<cached_policy>> sqlite_store::load_policy(std::string_view domain) {
    const std::lock_guard lock(mutex_);
    const auto s = prepare(db_.get(), "SELECT id, body, fetched_at, expires_at FROM sts_policy WHERE domain = ?1",
                           {domain});
    if (!s) return {{}, sql_error(db_.get(), "prepare")};
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) return {std::nullopt, {}};
    if (rc != SQLITE_ROW) return {{}, sql_error(db_.get(), "read policy")};
    return {cached_policy{std::string(domain), column_text(s.get(), 0), column_text(s.get(), 1),
                          sqlite3_column_int64(s.get(), 2), sqlite3_column_int64(s.get(), 3)},
            {}};
}

store_error sqlite_store::save_policy(const cached_policy& p) {
    const std::lock_guard lock(mutex_);
    return run(db_.get(),
               "INSERT INTO sts_policy(domain, id, body, fetched_at, expires_at) VALUES(?1, ?2, ?3, ?4, ?5) "
               "ON CONFLICT(domain) DO UPDATE SET id = excluded.id, body = excluded.body, "
               "fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
               {p.domain, p.id, p.body, p.fetched_at, p.expires_at})
        .error;
}

store_result<bool> sqlite_store::claim_fetch(std::string_view domain, std::string_view owner, std::int64_t now,
                                             std::int64_t hold) {
    const std::lock_guard lock(mutex_);
    // A claim is taken when there is none or the one there has lapsed.
    const auto r = run(db_.get(),
                       "INSERT INTO sts_fetch_claim(domain, owner, until) VALUES(?1, ?2, ?3) "
                       "ON CONFLICT(domain) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                       "WHERE sts_fetch_claim.until <= ?4",
                       {domain, owner, now + hold, now});
    return {r.value == 1, r.error};
}

store_error sqlite_store::release_fetch(std::string_view domain, std::string_view owner) {
    const std::lock_guard lock(mutex_);
    return run(db_.get(), "DELETE FROM sts_fetch_claim WHERE domain = ?1 AND owner = ?2", {domain, owner}).error;
}

store_error sqlite_store::add_counts(std::string_view day, std::string_view domain, std::string_view record,
                                     const std::vector<sts::tlsrpt_count>& batch) {
    const std::lock_guard lock(mutex_);
    transaction t(db_.get());
    if (!t.begun().ok()) return t.begun();
    auto r = run(db_.get(),
                 "INSERT INTO tlsrpt_domain(day, domain, record) VALUES(?1, ?2, ?3) "
                 "ON CONFLICT(day, domain) DO UPDATE SET record = excluded.record",
                 {day, domain, record});
    if (!r.ok()) return r.error;
    for (const auto& c : batch) {
        const std::string key = sts::encode(c.key);
        r = run(db_.get(),
                "INSERT INTO tlsrpt_count(day, domain, key, count) VALUES(?1, ?2, ?3, ?4) "
                "ON CONFLICT(day, domain, key) DO UPDATE SET count = count + excluded.count",
                {day, domain, key, static_cast<std::int64_t>(c.count)});
        if (!r.ok()) return r.error;
    }
    return t.commit();
}

store_result<std::vector<std::string>> sqlite_store::report_domains(std::string_view day) {
    const std::lock_guard lock(mutex_);
    const auto s = prepare(db_.get(), "SELECT domain FROM tlsrpt_domain WHERE day = ?1 ORDER BY domain", {day});
    if (!s) return {{}, sql_error(db_.get(), "prepare")};
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(column_text(s.get(), 0));
    if (rc != SQLITE_DONE) return {{}, sql_error(db_.get(), "read report domains")};
    return {std::move(out), {}};
}

store_result<day_counts> sqlite_store::load_counts(std::string_view day, std::string_view domain) {
    const std::lock_guard lock(mutex_);
    day_counts out;
    // One read transaction, so the record and the counts belong together.
    transaction t(db_.get());
    if (!t.begun().ok()) return {{}, t.begun()};
    auto s = prepare(db_.get(), "SELECT record FROM tlsrpt_domain WHERE day = ?1 AND domain = ?2", {day, domain});
    if (!s) return {{}, sql_error(db_.get(), "prepare")};
    if (sqlite3_step(s.get()) == SQLITE_ROW) out.record = column_text(s.get(), 0);
    s = prepare(db_.get(), "SELECT key, count FROM tlsrpt_count WHERE day = ?1 AND domain = ?2 ORDER BY key",
                {day, domain});
    if (!s) return {{}, sql_error(db_.get(), "prepare")};
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        auto key = sts::decode_key(column_text(s.get(), 0));
        if (!key) return {{}, {store_status::failed, "unreadable TLS-RPT counter key in " + path_}};
        out.counts.push_back({std::move(*key), static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 1))});
    }
    if (rc != SQLITE_DONE) return {{}, sql_error(db_.get(), "read counters")};
    if (auto e = t.commit(); !e.ok()) return {{}, e};
    return {std::move(out), {}};
}

store_result<bool> sqlite_store::claim_report(std::string_view day, std::string_view domain, std::string_view owner,
                                              std::int64_t now, std::int64_t hold) {
    const std::lock_guard lock(mutex_);
    const auto r = run(db_.get(),
                       "INSERT INTO tlsrpt_report(day, domain, owner, sent, until) VALUES(?1, ?2, ?3, 0, ?4) "
                       "ON CONFLICT(day, domain) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                       "WHERE tlsrpt_report.sent = 0 AND tlsrpt_report.until <= ?5",
                       {day, domain, owner, now + hold, now});
    return {r.value == 1, r.error};
}

store_error sqlite_store::finish_report(std::string_view day, std::string_view domain, std::string_view owner,
                                        bool sent) {
    const std::lock_guard lock(mutex_);
    const char* sql = sent ? "UPDATE tlsrpt_report SET sent = 1 WHERE day = ?1 AND domain = ?2 AND owner = ?3"
                           : "DELETE FROM tlsrpt_report WHERE day = ?1 AND domain = ?2 AND owner = ?3 AND sent = 0";
    return run(db_.get(), sql, {day, domain, owner}).error;
}

store_result<report_claim> sqlite_store::report_status(std::string_view day, std::string_view domain) {
    const std::lock_guard lock(mutex_);
    const auto s = prepare(db_.get(), "SELECT owner, sent FROM tlsrpt_report WHERE day = ?1 AND domain = ?2",
                           {day, domain});
    if (!s) return {{}, sql_error(db_.get(), "prepare")};
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) return {{}, {}};
    if (rc != SQLITE_ROW) return {{}, sql_error(db_.get(), "read report state")};
    return {{sqlite3_column_int64(s.get(), 1) != 0 ? report_state::sent : report_state::claimed,
             column_text(s.get(), 0)},
            {}};
}

store_error sqlite_store::remember_starttls(std::string_view domain, std::int64_t now, std::int64_t forget_after) {
    const std::lock_guard lock(mutex_);
    return run(db_.get(),
               "INSERT INTO starttls_seen(domain, until) VALUES(?1, ?2) "
               "ON CONFLICT(domain) DO UPDATE SET until = excluded.until",
               {domain, now + forget_after})
        .error;
}

store_result<bool> sqlite_store::starttls_remembered(std::string_view domain, std::int64_t now) {
    const std::lock_guard lock(mutex_);
    const auto s = prepare(db_.get(), "SELECT until FROM starttls_seen WHERE domain = ?1", {domain});
    if (!s) return {{}, sql_error(db_.get(), "prepare")};
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) return {false, {}};
    if (rc != SQLITE_ROW) return {false, sql_error(db_.get(), "read STARTTLS memory")};
    return {sqlite3_column_int64(s.get(), 0) > now, {}};
}

}  // namespace dsproxy::store
