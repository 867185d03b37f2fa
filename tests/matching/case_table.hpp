// case_table — reads the name-matching case tables (TSV) of tests/matching/data.
// Format: see data/README.md. Pure file parsing; no matching here.
#pragma once

#include <string>
#include <vector>

namespace dsproxy::test {

struct match_case {
    std::string file;
    int line = 0;
    std::string kind;       // "domain" or "host"
    std::string reference;
    std::vector<std::string> dns_names;  // "-" -> empty; "IP:" entries removed
    std::vector<std::string> ip_sans;
    std::vector<std::string> cns;
    std::string cn_mode;    // "no-san" or "always"
    bool expect_match = false;
    std::string rule;       // "-" when none
    std::string note;
};

// Loads every row of `path`; throws std::runtime_error on a malformed row.
std::vector<match_case> load_cases(const std::string& path);

}  // namespace dsproxy::test
