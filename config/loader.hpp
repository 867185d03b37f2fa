// loader — reads the main configuration file and every file it includes.
//
// Owns: the file layout of docs/design.md §7 (one main file; `include:` lists
// directories whose `*.yaml` files are merged in lexical order), which
// sections a file may hold, and the checks between sections (a listener's
// upstream exists, outbound listeners have allowed_clients, ...).
// Must not: throw for a configuration problem, log, or keep any state
// between calls — a reload is just another load(), and the old config keeps
// running until a new one comes back without errors.
#pragma once

#include "config/diagnostic.hpp"
#include "config/model.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace dsproxy::config {

// The default main file, relative to the working directory.
inline constexpr std::string_view default_main_file = "conf.d/dsproxy.yaml";

struct load_result {
    std::shared_ptr<const config> value;  // set only when there are no errors
    diagnostics errors;                   // every error of every file, in file order

    bool ok() const noexcept { return errors.empty(); }
};

load_result load(const std::filesystem::path& main_file);

// Every key a configuration file may hold, as dotted paths in table order
// (`logging.level`, `listeners.<name>.fqdn`, `certificates.files.key`), read
// from the loader's own tables (`dsproxy check-config --keys`; the man page
// test checks each is documented).
std::vector<std::string> accepted_keys();

}  // namespace dsproxy::config
