// open_store — the policy_store that the configuration's `store` section
// names (docs/design.md §6.4): the SQLite file (`path`, default store.db in the state
// directory: systemd's $STATE_DIRECTORY, else /var/lib/dsproxy), or Redis.
// Must not: create the state directory (the package and the unit do).
#pragma once

#include "config/model.hpp"
#include "proxy/store/policy_store.hpp"

#include <memory>
#include <string>

namespace dsproxy::store {

// The SQLite path the settings stand for (their `path`, or the default).
std::string sqlite_path(const config::store_settings& settings);

// nullptr with `error` when the SQLite file cannot be opened; a Redis store
// always opens (it connects on first use).
std::unique_ptr<policy_store> open_store(const config::store_settings& settings, std::string& error);

}  // namespace dsproxy::store
