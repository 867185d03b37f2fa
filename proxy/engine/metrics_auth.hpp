// metrics_auth — who may scrape the metrics endpoint (`metrics.bearer_token_file`,
// `metrics.basic_auth_file`; docs/configuration.md): an HTTP Authorization
// header checked against a bearer token, or against `user:hash` lines whose
// hashes are crypt(3) strings (`openssl passwd -6`, `mkpasswd -m yescrypt`),
// as Prometheus's own web configuration does with bcrypt.
//
// Owns: reading the two files (at start: the endpoint is bound once) and the
// decision for one request (pure but for crypt(3)).
// Must not: log a token or a password, or compare them in time that depends
// on where they differ.
#pragma once

#include "config/model.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dsproxy::engine {

struct metrics_credentials {
    std::optional<std::string> bearer_token;
    std::vector<std::pair<std::string, std::string>> users;  // name, crypt(3) hash

    bool required() const noexcept { return bearer_token || !users.empty(); }
};

// nullopt with `error` when a configured file cannot be read or holds nothing usable.
std::optional<metrics_credentials> load_metrics_credentials(const config::metrics& m, std::string& error);

// Whether a request with this Authorization header value (empty: none) may scrape.
bool authorized(const metrics_credentials& c, std::string_view authorization);

}  // namespace dsproxy::engine
