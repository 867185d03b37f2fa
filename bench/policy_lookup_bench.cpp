// policy_lookup_bench — ns per policy lookup at 1,000 and 100,000 domains.
//
// Shows that lookup is O(labels of the name), not O(entries): exact hits,
// `.parent` hits and misses that fall through to `default` cost about the
// same at both table sizes, and a miss costs one hash probe per label.
// Usage: policy_lookup_bench [lookups-per-figure]   (default 1,000,000)
// Prints the best of 5 runs per figure; it is a program, not a test
// (timings are not pass/fail). The queries are spread over the whole table,
// so the largest table also pays its cache and TLB misses.
#include "config/policy.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace dsproxy::config;

// Half the entries exact (`dom<i>.com`), half parent entries (`.par<i>.net`).
policy_table build(std::size_t entries) {
    policy_table table;
    for (std::size_t i = 0; i < entries; ++i) {
        domain_policy p;
        p.level = tls_level::encrypt;
        if (i % 2 == 0)
            table.insert({"dom" + std::to_string(i) + ".com", false}, p);
        else
            table.insert({"par" + std::to_string(i) + ".net", true}, p);
    }
    return table;
}

// Queries over the whole table in random order, so that a bigger table pays
// its real cache misses.
std::vector<std::string> queries(std::size_t entries, const char* kind, std::size_t count) {
    std::mt19937_64 rng(42);
    std::vector<std::string> out;
    out.reserve(count);
    const std::string k = kind;
    for (std::size_t q = 0; q < count; ++q) {
        const std::size_t i = rng() % (entries / 2);
        if (k == "exact") out.push_back("dom" + std::to_string(2 * i) + ".com");
        else if (k == "parent") out.push_back("mail.par" + std::to_string(2 * i + 1) + ".net");
        else if (k == "default") out.push_back("mail.none" + std::to_string(i) + ".org");
        else out.push_back("a.b.c.d.e.f.mail.none" + std::to_string(i) + ".org");  // 9 labels
    }
    return out;
}

double ns_per_lookup(const policy_table& table, const std::vector<std::string>& names, std::size_t lookups,
                     policy_source expected) {
    std::size_t checks = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t n = 0; n < lookups; ++n) {
        const auto match = table.lookup(names[n % names.size()]);
        checks += match.source == expected;
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (checks != lookups) {
        std::fprintf(stderr, "policy_lookup_bench: wrong lookup result (%zu of %zu)\n", checks, lookups);
        std::exit(1);
    }
    return std::chrono::duration<double, std::nano>(elapsed).count() / static_cast<double>(lookups);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t lookups = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
    constexpr std::size_t query_set = 1 << 16;
    // The machine is shared: the best of a few runs is the figure least
    // disturbed by other processes.
    constexpr int repetitions = 5;
    struct row {
        const char* kind;
        policy_source expected;
    };
    const row rows[] = {{"exact", policy_source::exact},
                        {"parent", policy_source::parent},
                        {"default", policy_source::fallback},
                        {"default-9-labels", policy_source::fallback}};
    constexpr std::size_t sizes[] = {1'000, 10'000, 100'000};
    std::printf("%-18s %12s %12s %12s   (ns per lookup, by number of domains)\n", "lookup", "1,000", "10,000",
                "100,000");
    std::vector<policy_table> tables;
    for (const auto n : sizes) tables.push_back(build(n));
    for (const auto& r : rows) {
        std::printf("%-18s", r.kind);
        for (std::size_t t = 0; t < tables.size(); ++t) {
            const auto names = queries(sizes[t], r.kind, query_set);
            double best = ns_per_lookup(tables[t], names, lookups, r.expected);
            for (int rep = 1; rep < repetitions; ++rep)
                best = std::min(best, ns_per_lookup(tables[t], names, lookups, r.expected));
            std::printf(" %9.1f ns", best);
        }
        std::printf("\n");
    }
}
