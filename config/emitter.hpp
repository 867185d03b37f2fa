// emitter — the effective configuration as YAML (`dsproxy check-config`).
//
// Owns: printing every setting, defaults included, in the same schema the
// files are written in, so the output is itself a valid main file (with
// absolute paths and no `include`: the included policies are merged in).
// Must not: print secrets (the configuration holds none: keys are paths).
#pragma once

#include "config/model.hpp"

#include <string>

namespace dsproxy::config {

std::string to_yaml(const config& cfg);

}  // namespace dsproxy::config
