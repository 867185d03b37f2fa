// temp_tree — see temp_tree.hpp.
#include "tests/config/temp_tree.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace dsproxy::config::test {

temp_tree::temp_tree() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dsproxy-config-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
}

temp_tree::~temp_tree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
}

std::filesystem::path temp_tree::write(const std::string& relative, std::string_view text) const {
    const auto path = root_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
    return path;
}

void temp_tree::mkdir(const std::string& relative) const { std::filesystem::create_directories(root_ / relative); }

load_result temp_tree::load(const std::string& relative) const { return dsproxy::config::load(root_ / relative); }

bool has_error(const load_result& result, std::string_view file, int line, int column, std::string_view text) {
    for (const auto& d : result.errors)
        if (d.where.file.ends_with(file) && d.where.line == line && d.where.column == column &&
            d.message.find(text) != std::string::npos)
            return true;
    return false;
}

std::string all_errors(const load_result& result) {
    std::string out;
    for (const auto& d : result.errors) out += format(d) + '\n';
    return out;
}

}  // namespace dsproxy::config::test
