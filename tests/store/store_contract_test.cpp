// The policy_store contract (proxy/store/policy_store.hpp), one suite run
// against the SQLite store and against a real redis-server started here:
// policies round-trip, claims go to exactly one of many racing instances,
// counter batches add up atomically, the STARTTLS memory is forgotten.
#include "proxy/store/redis_store.hpp"
#include "proxy/store/sqlite_store.hpp"
#include "tests/store/redis_server.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <functional>
#include <thread>

namespace st = dsproxy::store;
namespace s = dsproxy::sts;
namespace fs = std::filesystem;

namespace dsproxy::store {
inline std::ostream& operator<<(std::ostream& os, report_state r) { return os << to_string(r); }
inline std::ostream& operator<<(std::ostream& os, store_status r) { return os << to_string(r); }
}  // namespace dsproxy::store

namespace {

using store_factory = std::function<std::unique_ptr<st::policy_store>()>;

s::tlsrpt_key failure_key(std::string mx, s::result_type r = s::result_type::certificate_host_mismatch) {
    s::tlsrpt_key k;
    k.type = s::policy_type::sts;
    k.policy_text = "version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 86400\n";
    k.failure = r;
    k.sending_ip = "192.0.2.1";
    k.receiving_mx = std::move(mx);
    k.receiving_ip = "198.51.100.2";
    return k;
}

s::tlsrpt_key success_key() {
    s::tlsrpt_key k;
    k.type = s::policy_type::sts;
    k.policy_text = "version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 86400\n";
    return k;
}

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Each caller races `claim` from its own store instance; how many won.
int racing_winners(const store_factory& make, const std::function<bool(st::policy_store&, int)>& claim) {
    constexpr int instances = 8;
    std::vector<std::unique_ptr<st::policy_store>> stores;
    for (int i = 0; i < instances; ++i) stores.push_back(make());
    std::atomic<int> winners{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < instances; ++i)
        threads.emplace_back([&, i] {
            while (!go) std::this_thread::yield();
            if (claim(*stores[static_cast<std::size_t>(i)], i)) ++winners;
        });
    go = true;
    for (auto& t : threads) t.join();
    return winners;
}

void run_contract(const store_factory& make) {
    const auto store = make();
    const std::int64_t t = now();

    // Policies round-trip whole, and a later save replaces the earlier.
    BOOST_TEST(!store->load_policy("example.net").value.has_value());
    const st::cached_policy p1{"example.net", "id1", "version: STSv1\nmode: testing\nmx: *.example.net\nmax_age: 600\n",
                               t, t + 600};
    BOOST_REQUIRE(store->save_policy(p1).ok());
    BOOST_TEST((make()->load_policy("example.net").value == std::optional(p1)));  // another instance reads it
    const st::cached_policy p2{"example.net", "id2", "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 900\n",
                               t + 5, t + 905};
    BOOST_REQUIRE(store->save_policy(p2).ok());
    BOOST_TEST((store->load_policy("example.net").value == std::optional(p2)));

    // One fetcher among racing instances; release lets the next one in.
    BOOST_TEST(racing_winners(make, [&](st::policy_store& s, int i) {
                   return s.claim_fetch("race.example", "instance" + std::to_string(i), t, 60).value;
               }) == 1);
    BOOST_TEST(!store->claim_fetch("race.example", "late", t, 60).value);
    for (int i = 0; i < 8; ++i) BOOST_REQUIRE(store->release_fetch("race.example", "instance" + std::to_string(i)).ok());
    BOOST_TEST(store->claim_fetch("race.example", "late", t, 60).value);
    BOOST_REQUIRE(store->release_fetch("race.example", "somebody-else").ok());  // not the owner: no effect
    BOOST_TEST(!store->claim_fetch("race.example", "later", t, 60).value);

    // Counters: racing batches from many instances add up exactly.
    const std::string day = s::utc_day(t);
    const std::string record = "v=TLSRPTv1; rua=mailto:tlsrpt@example.net";
    BOOST_TEST(racing_winners(make, [&](st::policy_store& s, int) {
                   for (int round = 0; round < 25; ++round)
                       if (!s.add_counts(day, "example.net", record,
                                         {{success_key(), 2}, {failure_key("mx1.example.net"), 1}})
                                .ok())
                           return false;
                   return true;
               }) == 8);
    BOOST_REQUIRE(store->add_counts(day, "other.example", "v=TLSRPTv1; rua=https://r.other.example/",
                                    {{failure_key("mx.other.example", s::result_type::starttls_not_supported), 1}})
                      .ok());
    const auto counts = store->load_counts(day, "example.net");
    BOOST_REQUIRE(counts.ok());
    BOOST_TEST(counts.value.record == record);
    BOOST_REQUIRE(counts.value.counts.size() == 2u);
    for (const auto& c : counts.value.counts) {
        if (c.key == success_key()) BOOST_TEST(c.count == 400u);
        else BOOST_TEST((c.key == failure_key("mx1.example.net") && c.count == 200u));
    }
    BOOST_TEST(store->report_domains(day).value == (std::vector<std::string>{"example.net", "other.example"}));
    BOOST_TEST(store->report_domains("1999-01-01").value.empty());
    BOOST_TEST(store->load_counts("1999-01-01", "example.net").value.counts.empty());

    // One report per domain per day: one claimant; a failed send releases
    // the claim, a sent report stays sent.
    BOOST_TEST(store->report_status(day, "example.net").value.state == st::report_state::none);
    BOOST_TEST(racing_winners(make, [&](st::policy_store& s, int i) {
                   return s.claim_report(day, "example.net", "instance" + std::to_string(i), t, 600).value;
               }) == 1);
    const auto claimed = store->report_status(day, "example.net").value;
    BOOST_TEST(claimed.state == st::report_state::claimed);
    BOOST_REQUIRE(store->finish_report(day, "example.net", claimed.owner, false).ok());
    BOOST_TEST(store->report_status(day, "example.net").value.state == st::report_state::none);
    BOOST_TEST(store->claim_report(day, "example.net", "retry", t, 600).value);
    BOOST_REQUIRE(store->finish_report(day, "example.net", "not-the-owner", true).ok());
    BOOST_TEST(store->report_status(day, "example.net").value.state == st::report_state::claimed);
    BOOST_REQUIRE(store->finish_report(day, "example.net", "retry", true).ok());
    const auto sent = store->report_status(day, "example.net").value;
    BOOST_TEST(sent.state == st::report_state::sent);
    BOOST_TEST(sent.owner == "retry");
    BOOST_TEST(!store->claim_report(day, "example.net", "again", t + 10000, 600).value);

    // STARTTLS memory: remembered, then forgotten after forget_after
    // (real seconds: Redis keeps time itself).
    BOOST_TEST(!store->starttls_remembered("tls.example", now()).value);
    BOOST_REQUIRE(store->remember_starttls("tls.example", now(), 1).ok());
    BOOST_TEST(make()->starttls_remembered("tls.example", now()).value);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (store->starttls_remembered("tls.example", now()).value && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    BOOST_TEST(!store->starttls_remembered("tls.example", now()).value);
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        char tmpl[] = "/tmp/dsproxy-store-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(sqlite_store_keeps_the_contract) {
    temp_dir dir;
    const auto file = (dir.path / "store.db").string();
    run_contract([&] {
        std::string error;
        auto s = st::sqlite_store::open(file, std::chrono::seconds(10), error);
        BOOST_REQUIRE_MESSAGE(s, error);
        return std::unique_ptr<st::policy_store>(std::move(s));
    });
}

BOOST_AUTO_TEST_CASE(redis_store_keeps_the_contract) {
    dsproxy::test::redis_server redis;
    run_contract([&] {
        return std::unique_ptr<st::policy_store>(
            std::make_unique<st::redis_store>(st::redis_endpoint{"127.0.0.1", redis.port(), 3}, std::chrono::seconds(5)));
    });
}

BOOST_AUTO_TEST_CASE(redis_down_is_unavailable_and_recovers) {
    const auto port = dsproxy::test::free_port();
    st::redis_store store({"127.0.0.1", port, 0}, std::chrono::seconds(2));
    const auto r = store.load_policy("example.net");
    BOOST_TEST(r.error.status == st::store_status::unavailable);
    BOOST_TEST(!r.error.detail.empty());
    // The same store object reconnects once Redis is there.
    dsproxy::test::redis_server redis(port);
    BOOST_TEST(store.save_policy({"example.net", "1", "b", 1, now() + 60}).ok());
    BOOST_TEST(store.load_policy("example.net").value.has_value());
}

BOOST_AUTO_TEST_CASE(sqlite_open_failure_names_the_file) {
    std::string error;
    BOOST_TEST(!st::sqlite_store::open("/nonexistent-dir/x/store.db", std::chrono::seconds(1), error));
    BOOST_TEST(error.find("/nonexistent-dir/x/store.db") != std::string::npos);
}
