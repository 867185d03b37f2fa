// store_writer — the child process of tests/store's crash test: opens the
// SQLite store at argv[1] and writes until it is killed. Each round is one
// add_counts batch of three counters (+1 each) and one policy save whose id
// is the round number, so a reader can tell a torn batch (counters that
// differ) from a whole one.
#include "proxy/store/sqlite_store.hpp"

#include <chrono>
#include <cstdio>
#include <string>

namespace st = dsproxy::store;
namespace s = dsproxy::sts;

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    std::string error;
    const auto store = st::sqlite_store::open(argv[1], std::chrono::seconds(5), error);
    if (!store) {
        std::fprintf(stderr, "store_writer: %s\n", error.c_str());
        return 1;
    }
    std::vector<s::tlsrpt_count> batch;
    for (const char* mx : {"mx1.crash.example", "mx2.crash.example", "mx3.crash.example"}) {
        s::tlsrpt_key key;
        key.type = s::policy_type::sts;
        key.policy_text = "version: STSv1\nmode: enforce\nmx: *.crash.example\nmax_age: 86400\n";
        key.failure = s::result_type::certificate_expired;
        key.sending_ip = "192.0.2.1";
        key.receiving_mx = mx;
        key.receiving_ip = "198.51.100.7";
        batch.push_back({key, 1});
    }
    for (long round = 1;; ++round) {
        if (!store->add_counts("2026-01-01", "crash.example", "v=TLSRPTv1; rua=mailto:r@crash.example", batch).ok())
            return 1;
        const std::string body(4096 + static_cast<std::size_t>(round % 4096), 'x');
        if (!store->save_policy({"crash.example", std::to_string(round), body, round, round + 86400}).ok()) return 1;
    }
}
