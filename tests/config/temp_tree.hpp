// temp_tree — a scratch directory of configuration files for one test.
//
// Owns: a fresh directory under the system temp dir, removed with everything
// in it when the tree goes out of scope; and helpers that load a config from
// it and look for a diagnostic at an exact file:line:column.
#pragma once

#include "config/loader.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace dsproxy::config::test {

class temp_tree {
public:
    temp_tree();
    ~temp_tree();
    temp_tree(const temp_tree&) = delete;
    temp_tree& operator=(const temp_tree&) = delete;

    const std::filesystem::path& root() const noexcept { return root_; }
    // Writes `text` to root/relative (parents created) and returns the path.
    std::filesystem::path write(const std::string& relative, std::string_view text) const;
    void mkdir(const std::string& relative) const;
    load_result load(const std::string& relative = "dsproxy.yaml") const;

private:
    std::filesystem::path root_;
};

// A main file that loads clean: one inbound listener, its upstream, one
// accepted domain. Tests append sections to it.
inline constexpr std::string_view minimal_main = R"(listeners:
  in:
    role: inbound
    listen: 127.0.0.1:2525
    fqdn: mx.example.com
    upstream: backend
upstreams:
  backend:
    hosts: ["127.0.0.1:2526"]
accepted_domains: [example.com]
)";

// True when `result` holds an error at `file` (a suffix of the path),
// `line`:`column`, whose message contains `text`.
bool has_error(const load_result& result, std::string_view file, int line, int column, std::string_view text);
// All diagnostics, formatted, for test failure messages.
std::string all_errors(const load_result& result);

}  // namespace dsproxy::config::test
