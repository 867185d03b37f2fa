#include "case_table.hpp"

#include <fstream>
#include <stdexcept>

namespace dsproxy::test {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string::size_type start = 0;
    while (true) {
        const auto pos = s.find(sep, start);
        out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
        if (pos == std::string::npos) break;
        start = pos + 1;
    }
    return out;
}

// The only escape of the table: the two characters \0 stand for a NUL byte.
std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '0') {
            out.push_back('\0');
            ++i;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace

std::vector<match_case> load_cases(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::vector<match_case> cases;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (number == 1 || line.empty()) continue;  // header
        const auto cols = split(line, '\t');
        if (cols.size() != 8)
            throw std::runtime_error(path + ":" + std::to_string(number) + ": expected 8 columns");
        match_case c;
        c.file = path;
        c.line = number;
        c.kind = cols[0];
        c.reference = unescape(cols[1]);
        if (cols[2] != "-") {
            for (auto& entry : split(cols[2], ',')) {
                if (entry.rfind("IP:", 0) == 0)
                    c.ip_sans.push_back(entry.substr(3));
                else
                    c.dns_names.push_back(unescape(entry));
            }
        }
        if (cols[3] != "-")
            for (auto& cn : split(cols[3], '|')) c.cns.push_back(unescape(cn));
        c.cn_mode = cols[4];
        if (cols[5] != "match" && cols[5] != "nomatch")
            throw std::runtime_error(path + ":" + std::to_string(number) + ": bad expected column");
        c.expect_match = cols[5] == "match";
        c.rule = cols[6];
        c.note = cols[7];
        cases.push_back(std::move(c));
    }
    return cases;
}

}  // namespace dsproxy::test
