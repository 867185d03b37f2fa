// config_diff — see config_diff.hpp.
#include "config/config_diff.hpp"

#include "config/emitter.hpp"

#include <yaml-cpp/yaml.h>

#include <set>
#include <stdexcept>
#include <utility>

namespace dsproxy::config {

namespace {

std::string flow(const YAML::Node& n) {
    YAML::Emitter e;
    e << YAML::Flow << n;
    return e.c_str();
}

// The part of `value` that differs from `base`; null when nothing does.
// `keep`: the map's entries are named things (listeners, upstreams, policy
// entries): each stays, as `{}` when it sets nothing of its own.
YAML::Node difference(const YAML::Node& value, const YAML::Node& base, bool keep = false) {
    if (value.IsMap() && base.IsMap()) {
        YAML::Node out(YAML::NodeType::Map);
        bool any = false;
        for (const auto& entry : value) {
            const auto key = entry.first.as<std::string>();
            const auto child = difference(entry.second, base[key]);
            if (child.IsNull() && !keep) continue;
            out[key] = child.IsNull() ? YAML::Node(YAML::NodeType::Map) : child;
            any = true;
        }
        return any ? out : YAML::Node();
    }
    if (base.IsDefined() && !base.IsNull() && flow(value) == flow(base)) return {};
    if (!base.IsDefined() && value.IsSequence() && value.size() == 0) return {};
    return value;
}

void flatten(const YAML::Node& n, const std::string& path, std::vector<std::pair<std::string, std::string>>& out) {
    if (n.IsMap() && n.size() > 0) {
        for (const auto& entry : n)
            flatten(entry.second, path.empty() ? entry.first.as<std::string>() : path + "." + entry.first.as<std::string>(),
                    out);
        return;
    }
    out.emplace_back(path, flow(n));
}

}  // namespace

std::string non_default_yaml(const config& cfg) {
    // The defaults, with a default listener, upstream and policy entry in
    // place of each one `cfg` has (same name, same role).
    config base;
    base.main_file = cfg.main_file;
    for (const auto& l : cfg.listeners) {
        listener d;
        d.name = l.name;
        d.role = l.role;
        base.listeners.push_back(std::move(d));
    }
    for (const auto& u : cfg.upstreams) {
        upstream d;
        d.name = u.name;
        base.upstreams.push_back(std::move(d));
    }
    for (const auto& [key, policy] : cfg.policies.entries().sorted()) base.policies.insert(key, domain_policy{});
    const auto value = YAML::Load(to_yaml(cfg));
    const auto defaults = YAML::Load(to_yaml(base));
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& entry : value) {
        const auto key = entry.first.as<std::string>();
        const bool named = key == "listeners" || key == "upstreams" || key == "policies";
        YAML::Node child;
        if (key == "policies") {
            // `default` is compared with the default policy; every other entry
            // is named and stays.
            YAML::Node policies(YAML::NodeType::Map);
            bool any = false;
            for (const auto& p : entry.second) {
                const auto name = p.first.as<std::string>();
                auto d = difference(p.second, defaults["policies"][name]);
                if (d.IsNull() && name == "default") continue;
                policies[name] = d.IsNull() ? YAML::Node(YAML::NodeType::Map) : d;
                any = true;
            }
            if (any) child = policies;
        } else {
            child = difference(entry.second, defaults[key], named);
        }
        if (!child.IsNull()) out[key] = child;
    }
    if (out.size() == 0) return "# " + cfg.main_file + " sets nothing beyond the defaults\n";
    YAML::Emitter e;
    e << YAML::Comment("settings of " + cfg.main_file + " that differ from the defaults");
    e << out;
    return std::string(e.c_str()) + "\n";
}

bool read_at_start_only(const std::string& path) {
    if (path == "process.running_config") return false;  // written anew after each reload
    if (path.starts_with("process.") || path.starts_with("logging.") || path == "metrics.listen") return true;
    if (!path.starts_with("listeners.")) return false;
    return path.ends_with(".listen");
}

std::vector<setting_change> changes(const std::string& before, const std::string& after) {
    std::vector<std::pair<std::string, std::string>> old_values, new_values;
    try {
        flatten(YAML::Load(before), "", old_values);
        flatten(YAML::Load(after), "", new_values);
    } catch (const YAML::Exception& e) {
        throw std::runtime_error(std::string("not a configuration: ") + e.what());
    }
    std::vector<setting_change> out;
    std::set<std::string> seen;
    for (const auto& [path, value] : new_values) {
        seen.insert(path);
        std::string was;
        for (const auto& [p, v] : old_values)
            if (p == path) was = v;
        if (was == value) continue;
        out.push_back({path, was, value, read_at_start_only(path)});
    }
    for (const auto& [path, value] : old_values)
        if (!seen.contains(path)) out.push_back({path, value, {}, read_at_start_only(path)});
    return out;
}

}  // namespace dsproxy::config
