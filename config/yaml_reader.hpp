// yaml_reader — reads YAML nodes into the typed model, collecting diagnostics.
//
// Owns: the position of every error (yaml-cpp marks are 0-based; ours are
// 1-based), the table-driven mapping walk that refuses unknown keys (with the
// nearest known key suggested), duplicate keys and missing required keys, and
// the conversion of scalars through the typed parsers of quantity/address/
// enums. Paths resolve against the directory of the file being read.
// Must not: throw to its caller or stop at the first error — every problem of
// a file is reported in one run.
//
// Threat: a config file is trusted input, but a typo in it must never turn
// into a silently different policy; hence unknown keys are errors, not
// warnings, and booleans accept only true/false/yes/no/on/off.
#pragma once

#include "config/diagnostic.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::config {

// A kind of scalar value: what it is called in an error, and its parser.
template <class V>
struct value_kind {
    std::string (*what)();  // "a duration such as `30s`" — for wrong-type errors
    std::optional<V> (*parse)(std::string_view text, std::string* error);
};

enum class path_check {
    file,       // must exist and be a regular file
    directory,  // must exist and be a directory
    none,       // may not exist yet (created at start, e.g. a certificate store)
};

// Every key path the tables accept, such as `listeners.<name>.fqdn`: a
// file_reader given a catalog walks the tables themselves instead of a file
// (every key of a mapping visited with an empty mapping, one `<name>` entry
// per named mapping, one empty mapping per list), so the list comes from the
// same tables the loader reads with (loader.hpp, accepted_keys()).
struct key_catalog {
    std::vector<std::string> keys;
    std::string path;  // of the mapping being walked
};

class file_reader {
public:
    file_reader(std::string file, std::filesystem::path directory, diagnostics& out, key_catalog* catalog = nullptr)
        : file_(std::move(file)), directory_(std::move(directory)), out_(out), catalog_(catalog) {}

    const std::string& file() const noexcept { return file_; }
    source_location where(const YAML::Node& node) const;
    void error(const YAML::Node& node, std::string message);
    void error_at(source_location where, std::string message);

    // The key being read, for messages ("`message_size`: ..."); set by walk().
    std::string_view key() const noexcept { return key_; }
    // Where that key is written.
    const source_location& key_where() const noexcept { return key_where_; }

    // Scalar text; an error naming `what` was expected when the node is a
    // mapping, a sequence or empty.
    std::optional<std::string> scalar(const YAML::Node& node, std::string_view what);

    template <class V>
    std::optional<V> parse(const YAML::Node& node, const value_kind<V>& kind) {
        const auto text = scalar(node, kind.what());
        if (!text) return std::nullopt;
        std::string why;
        auto value = kind.parse(*text, &why);
        if (!value) error(node, prefixed(why));
        return value;
    }
    template <class V>
    void set(const YAML::Node& node, const value_kind<V>& kind, V& out) {
        if (auto v = parse(node, kind)) out = std::move(*v);
    }
    template <class V>
    void set(const YAML::Node& node, const value_kind<V>& kind, std::optional<V>& out) {
        if (auto v = parse(node, kind)) out = std::move(*v);
    }
    // A single value or a sequence of values; empty (null) is an empty list.
    template <class V>
    void set_list(const YAML::Node& node, const value_kind<V>& kind, std::vector<V>& out) {
        out.clear();
        for_each_item(node, kind.what(), [&](const YAML::Node& item) {
            if (auto v = parse(item, kind)) out.push_back(std::move(*v));
        });
    }

    // Paths: relative ones resolve against the file's directory; the result is absolute.
    std::optional<std::string> path(const YAML::Node& node, path_check check);
    void set_path(const YAML::Node& node, path_check check, std::string& out);
    void set_path(const YAML::Node& node, path_check check, std::optional<std::string>& out);
    void set_path_list(const YAML::Node& node, path_check check, std::vector<std::string>& out);

    // Calls `each` for a single scalar, every item of a sequence, or nothing
    // for null; a mapping is an error.
    void for_each_item(const YAML::Node& node, std::string_view what,
                       const std::function<void(const YAML::Node&)>& each);

    // Walks a mapping: every key must be one of `keys` (else an error with a
    // suggestion), at most once; `visit(index, value)` per key; then an error
    // per missing required key. A null node is an empty mapping. `what`
    // names the mapping in messages ("listener `inbound`").
    void walk(const YAML::Node& node, std::string_view what, std::span<const std::string_view> keys,
              std::span<const bool> required, const std::function<void(std::size_t, const YAML::Node&)>& visit);

    // Walks a mapping whose keys are names chosen by the administrator
    // (listeners, upstreams, policies): `visit(key_node, value)` per entry,
    // duplicates refused.
    void walk_named(const YAML::Node& node, std::string_view what,
                    const std::function<void(const YAML::Node& key, const YAML::Node& value)>& visit);

    // "`key`: why", or just why outside a key.
    std::string prefixed(const std::string& why) const;

private:
    bool check_mapping(const YAML::Node& node, std::string_view what);

    std::string file_;
    std::filesystem::path directory_;
    diagnostics& out_;
    key_catalog* catalog_;
    std::string key_;
    source_location key_where_;
};

// One key of a mapping and how to read its value into a T.
template <class T>
struct field {
    std::string_view key;
    void (*read)(file_reader&, const YAML::Node&, T&);
    bool required = false;
};

template <class T, std::size_t N>
void read_mapping(file_reader& r, const YAML::Node& node, std::string_view what,
                  const std::array<field<T>, N>& fields, T& out) {
    std::array<std::string_view, N> keys{};
    std::array<bool, N> required{};
    for (std::size_t i = 0; i < N; ++i) {
        keys[i] = fields[i].key;
        required[i] = fields[i].required;
    }
    r.walk(node, what, keys, required,
           [&](std::size_t index, const YAML::Node& value) { fields[index].read(r, value, out); });
}

}  // namespace dsproxy::config
