// config_diff — what a configuration changes: against the built-in defaults
// (`check-config -n`, like `postconf -n`) and against the configuration a
// running dsproxy loaded (`check-config --diff`, the reload log), with the
// settings a reload cannot apply marked (docs/design.md §7).
//
// Owns: comparisons of effective configurations as emitter.hpp prints them,
// so both sides are complete (every default filled in) and in one schema.
// Must not: read files (the caller passes the texts).
#pragma once

#include "config/model.hpp"

#include <string>
#include <vector>

namespace dsproxy::config {

// The settings of `cfg` that differ from the built-in defaults, as YAML in
// the schema of the files. Each listener, upstream and policy entry is shown
// with what it sets beyond a default one of its kind (an entry that sets
// nothing is `{}`, so it is still seen).
std::string non_default_yaml(const config& cfg);

struct setting_change {
    std::string path;    // dotted: limits.max_connections, listeners.edge.listen
    std::string before;  // as YAML (flow style); empty when the setting is new
    std::string after;   // empty when it is gone
    bool restart = false;  // read at start only: a reload does not apply it
};

// What changes from the effective configuration `before` to `after` (both as
// to_yaml printed them), in the order of `after`, then what is gone.
// Throws std::runtime_error when either text is not YAML.
std::vector<setting_change> changes(const std::string& before, const std::string& after);

// Whether a reload applies the setting at `path`: `process`, `logging`,
// `metrics.listen` and a listener's `listen` are read at start only.
bool read_at_start_only(const std::string& path);

}  // namespace dsproxy::config
