// The SQLite store survives kill -9 mid-write (docs/design.md §6.4): a child process
// (store_writer) writes counter batches and policies in a loop and is
// killed with SIGKILL at three points; after each kill the file passes
// PRAGMA integrity_check, every batch is there whole or not at all (the
// three counters of a batch are equal), nothing acknowledged before the kill
// is lost, and the policy read back is one that was written whole.
#include "proxy/store/sqlite_store.hpp"
#include "tests/store/redis_server.hpp"

#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <sys/wait.h>
#include <thread>

namespace st = dsproxy::store;
namespace fs = std::filesystem;

namespace {

std::string integrity(const std::string& file) {
    sqlite3* db = nullptr;
    std::string out = "cannot open";
    if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
            out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    sqlite3_close_v2(db);
    return out;
}

// The three counters of the crash day (equal when no batch was torn).
std::vector<std::uint64_t> counters(st::policy_store& store) {
    std::vector<std::uint64_t> out;
    for (const auto& c : store.load_counts("2026-01-01", "crash.example").value.counts) out.push_back(c.count);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(sqlite_store_survives_kill_9_mid_write) {
    char tmpl[] = "/tmp/dsproxy-crash-XXXXXX";
    const fs::path dir = ::mkdtemp(tmpl);
    const std::string file = (dir / "store.db").string();
    std::uint64_t seen_before = 0;
    for (int round = 0; round < 3; ++round) {
        const pid_t child = dsproxy::test::spawn({DSPROXY_STORE_WRITER, file});
        std::string error;
        auto reader = st::sqlite_store::open(file, std::chrono::seconds(10), error);
        BOOST_REQUIRE_MESSAGE(reader, error);
        // Let it get well into writing: 150 more rounds than last time.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        std::uint64_t seen = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto c = counters(*reader);
            if (!c.empty()) seen = c.front();
            if (seen >= seen_before + 150) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        BOOST_REQUIRE_MESSAGE(seen >= seen_before + 150, "the writer made no progress");
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
        reader.reset();

        BOOST_TEST(integrity(file) == "ok");
        auto after = st::sqlite_store::open(file, std::chrono::seconds(10), error);
        BOOST_REQUIRE_MESSAGE(after, error);
        const auto c = counters(*after);
        BOOST_REQUIRE(c.size() == 3u);
        BOOST_TEST((c[0] == c[1] && c[1] == c[2]), "a torn batch: " << c[0] << ' ' << c[1] << ' ' << c[2]);
        BOOST_TEST(c[0] >= seen);  // nothing committed before the kill is lost
        const auto policy = after->load_policy("crash.example").value;
        BOOST_REQUIRE(policy.has_value());
        const auto id = std::stol(policy->id);
        BOOST_TEST(policy->body == std::string(4096 + static_cast<std::size_t>(id % 4096), 'x'));
        BOOST_TEST(policy->fetched_at == id);
        seen_before = c[0];
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
}
