// fuzz_config_loader — libFuzzer target for the YAML configuration loader
// (docs/design.md §7, §10).
//
// The input is written as the main file `dsproxy.yaml` in a private
// temporary directory (made once per process, removed at exit) and loaded.
// Invariants checked:
//   - no crash, no sanitizer report, no exception escapes load();
//   - a load returns either a configuration or at least one diagnostic,
//     never both, and every diagnostic has a non-empty message and a
//     non-negative position;
//   - a configuration that loads prints (to_yaml) as a main file that loads
//     again without errors and prints the same settings (check-config's
//     promise; only the comments naming the source file may differ).
// `include:` may name any directory; only `*.yaml` files are read from it,
// so the fuzzer can reach included-file handling through `include: [.]`.
#include "config/emitter.hpp"
#include "config/loader.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace cfg = dsproxy::config;
namespace fs = std::filesystem;

namespace {

struct scratch_dir {
    fs::path path;
    scratch_dir() {
        std::string tmpl = (fs::temp_directory_path() / "dsproxy-fuzz-config-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) std::abort();
        path = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_file(const fs::path& path, const char* data, std::size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data, static_cast<std::streamsize>(size));
    if (!out) std::abort();
}

// to_yaml's comments name the file it printed from; the settings are what must
// survive the round trip.
std::string settings_only(const std::string& printed) {
    std::string out;
    std::size_t start = 0;
    while (start < printed.size()) {
        auto end = printed.find('\n', start);
        if (end == std::string::npos) end = printed.size();
        std::string line = printed.substr(start, end - start);
        start = end + 1;
        if (line.starts_with("# ")) continue;
        if (const auto from = line.find("  # from "); from != std::string::npos) line.resize(from);
        out += line;
        out += '\n';
    }
    return out;
}

void check_shape(const cfg::load_result& r) {
    if (r.ok() != static_cast<bool>(r.value)) std::abort();
    for (const auto& d : r.errors)
        if (d.message.empty() || d.where.line < 0 || d.where.column < 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const scratch_dir dir;
    const fs::path main_file = dir.path / "dsproxy.yaml";
    write_file(main_file, reinterpret_cast<const char*>(data), size);

    const auto first = cfg::load(main_file);
    check_shape(first);
    if (!first.ok()) return 0;

    const std::string printed = cfg::to_yaml(*first.value);
    const fs::path again_file = dir.path / "printed.conf";  // not *.yaml: never picked up by `include: [.]`
    write_file(again_file, printed.data(), printed.size());
    const auto second = cfg::load(again_file);
    check_shape(second);
    if (!second.ok()) {  // the effective configuration must load as it is printed
        std::fprintf(stderr, "printed configuration does not load: %s\n---\n%s---\n",
                     cfg::format(second.errors.front()).c_str(), printed.c_str());
        std::abort();
    }
    if (const auto reprinted = cfg::to_yaml(*second.value); settings_only(reprinted) != settings_only(printed)) {
        std::fprintf(stderr, "printed twice differently:\n---\n%s---\n%s---\n", printed.c_str(), reprinted.c_str());
        std::abort();
    }
    return 0;
}
