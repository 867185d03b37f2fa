// yaml_reader — see yaml_reader.hpp.
#include "config/yaml_reader.hpp"

#include "config/enums.hpp"
#include "config/suggest.hpp"

#include <system_error>
#include <unordered_map>

namespace dsproxy::config {

namespace {

std::string_view node_kind(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "nothing";
    }
}

// Restores the enclosing key when a nested walk returns.
class key_scope {
public:
    key_scope(std::string& slot, std::string value) : slot_(slot), saved_(std::exchange(slot, std::move(value))) {}
    ~key_scope() { slot_ = std::move(saved_); }
    key_scope(const key_scope&) = delete;
    key_scope& operator=(const key_scope&) = delete;

private:
    std::string& slot_;
    std::string saved_;
};

}  // namespace

source_location file_reader::where(const YAML::Node& node) const {
    const auto mark = node.Mark();
    if (mark.is_null()) return {file_, 0, 0};
    return {file_, mark.line + 1, mark.column + 1};
}

void file_reader::error(const YAML::Node& node, std::string message) { error_at(where(node), std::move(message)); }

void file_reader::error_at(source_location where, std::string message) {
    out_.push_back({std::move(where), std::move(message)});
}

std::string file_reader::prefixed(const std::string& why) const {
    return key_.empty() ? why : "`" + key_ + "`: " + why;
}

std::optional<std::string> file_reader::scalar(const YAML::Node& node, std::string_view what) {
    if (node.IsScalar()) return node.Scalar();
    error(node, prefixed("expected " + std::string(what) + ", got " + std::string(node_kind(node))));
    return std::nullopt;
}

std::optional<std::string> file_reader::path(const YAML::Node& node, path_check check) {
    const auto text = scalar(node, "a file or directory path");
    if (!text) return std::nullopt;
    if (text->empty()) {
        error(node, prefixed("expected a file or directory path, got an empty string"));
        return std::nullopt;
    }
    const std::filesystem::path p = std::filesystem::path(*text).is_absolute() ? std::filesystem::path(*text)
                                                                               : directory_ / *text;
    const auto resolved = p.lexically_normal().string();
    std::error_code ec;
    const auto status = std::filesystem::status(p, ec);
    switch (check) {
    case path_check::file:
        if (!std::filesystem::is_regular_file(status)) {
            error(node, prefixed("file `" + resolved + "` " +
                                 (std::filesystem::exists(status) ? "is not a regular file" : "does not exist")));
            return std::nullopt;
        }
        break;
    case path_check::directory:
        if (!std::filesystem::is_directory(status)) {
            error(node, prefixed("directory `" + resolved + "` " +
                                 (std::filesystem::exists(status) ? "is not a directory" : "does not exist")));
            return std::nullopt;
        }
        break;
    case path_check::none:
        break;
    }
    return resolved;
}

void file_reader::set_path(const YAML::Node& node, path_check check, std::string& out) {
    if (auto p = path(node, check)) out = std::move(*p);
}

void file_reader::set_path(const YAML::Node& node, path_check check, std::optional<std::string>& out) {
    if (auto p = path(node, check)) out = std::move(*p);
}

void file_reader::set_path_list(const YAML::Node& node, path_check check, std::vector<std::string>& out) {
    out.clear();
    for_each_item(node, "a path or a list of paths", [&](const YAML::Node& item) {
        if (auto p = path(item, check)) out.push_back(std::move(*p));
    });
}

void file_reader::for_each_item(const YAML::Node& node, std::string_view what,
                                const std::function<void(const YAML::Node&)>& each) {
    if (catalog_) {  // one item, a mapping: the keys of a list of mappings
        each(YAML::Node(YAML::NodeType::Map));
        return;
    }
    if (node.IsNull()) return;
    if (node.IsScalar()) {
        each(node);
        return;
    }
    if (!node.IsSequence()) {
        error(node, prefixed("expected " + std::string(what) + " or a list of them, got " +
                             std::string(node_kind(node))));
        return;
    }
    for (const auto& item : node) each(item);
}

bool file_reader::check_mapping(const YAML::Node& node, std::string_view what) {
    if (node.IsNull() || node.IsMap()) return true;  // null: an empty section, not an error
    error(node, prefixed("expected a mapping of keys for " + std::string(what) + ", got " +
                         std::string(node_kind(node))));
    return false;
}

void file_reader::walk(const YAML::Node& node, std::string_view what, std::span<const std::string_view> keys,
                       std::span<const bool> required,
                       const std::function<void(std::size_t, const YAML::Node&)>& visit) {
    if (catalog_) {
        for (std::size_t index = 0; index < keys.size(); ++index) {
            const std::string name(keys[index]);
            const std::string path = catalog_->path.empty() ? name : catalog_->path + "." + name;
            catalog_->keys.push_back(path);
            const key_scope in_path(catalog_->path, path);
            const key_scope scope(key_, name);
            visit(index, YAML::Node(YAML::NodeType::Map));
        }
        return;
    }
    std::vector<std::optional<source_location>> seen(keys.size());
    if (!check_mapping(node, what)) return;  // one error for the whole mapping, not one per key
    if (node.IsMap()) {
        for (const auto& entry : node) {
            const YAML::Node& key = entry.first;
            if (!key.IsScalar()) {
                error(key, "expected a key name in " + std::string(what) + ", got " + std::string(node_kind(key)));
                continue;
            }
            const std::string& name = key.Scalar();
            std::size_t index = 0;
            while (index < keys.size() && keys[index] != name) ++index;
            if (index == keys.size()) {
                std::string message = "unknown key `" + name + "` in " + std::string(what);
                if (const auto near = nearest(name, keys))
                    message += ", did you mean `" + std::string(*near) + "`?";
                else
                    message += "; expected " + describe_choices(keys);
                error(key, std::move(message));
                continue;
            }
            if (seen[index]) {
                error(key, "key `" + name + "` given twice in " + std::string(what) + " (first at " +
                               to_string(*seen[index]) + ")");
                continue;
            }
            seen[index] = where(key);
            const key_scope scope(key_, name);
            const auto outer_where = std::exchange(key_where_, *seen[index]);
            visit(index, entry.second);
            key_where_ = outer_where;
        }
    }
    // An empty mapping (`in:` with nothing below) has no position of its own:
    // point at its key, or at the start of an empty file.
    source_location missing_at = where(node);
    if (node.IsNull() || missing_at.line == 0)
        missing_at = key_where_.file.empty() ? source_location{file_, 1, 1} : key_where_;
    for (std::size_t i = 0; i < keys.size(); ++i)
        if (required[i] && !seen[i])
            error_at(missing_at, "missing required key `" + std::string(keys[i]) + "` in " + std::string(what));
}

void file_reader::walk_named(const YAML::Node& node, std::string_view what,
                             const std::function<void(const YAML::Node&, const YAML::Node&)>& visit) {
    if (catalog_) {
        const key_scope in_path(catalog_->path, catalog_->path + ".<name>");
        visit(YAML::Node("<name>"), YAML::Node(YAML::NodeType::Map));
        return;
    }
    if (!check_mapping(node, what) || node.IsNull()) return;
    std::unordered_map<std::string, source_location> seen;
    for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        if (!key.IsScalar() || key.Scalar().empty()) {
            error(key, "expected a name in " + std::string(what) + ", got " + std::string(node_kind(key)));
            continue;
        }
        const auto [previous, inserted] = seen.try_emplace(key.Scalar(), where(key));
        if (!inserted) {
            error(key, "`" + key.Scalar() + "` defined twice in " + std::string(what) + " (first at " +
                           to_string(previous->second) + ")");
            continue;
        }
        const key_scope scope(key_, key.Scalar());
        const auto outer_where = std::exchange(key_where_, where(key));
        visit(key, entry.second);
        key_where_ = outer_where;
    }
}

}  // namespace dsproxy::config
