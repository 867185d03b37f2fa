// loader — see loader.hpp.
#include "config/loader.hpp"

#include "config/sections.hpp"
#include "config/suggest.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace dsproxy::config {

namespace {

namespace fs = std::filesystem;

// Included files: only names ending in this; hidden files are skipped so that
// editor swap and backup files never become configuration.
constexpr std::string_view include_suffix = ".yaml";

struct include_entry {
    std::string directory;
};

// What one file contributes while it is read.
struct document {
    config& cfg;
    std::vector<include_entry>& includes;
};

using D = document;

void read_include(file_reader& r, const YAML::Node& node, D& d) {
    r.for_each_item(node, "a directory", [&](const YAML::Node& item) {
        if (auto dir = r.path(item, path_check::directory)) {
            d.cfg.include.push_back(*dir);
            d.includes.push_back({std::move(*dir)});
        }
    });
}

// A section of the main file met in an included file: refused by name, so the
// message says why instead of "unknown key".
void main_only(file_reader& r, const YAML::Node&, D&) {
    r.error_at(r.key_where(), "section `" + std::string(r.key()) +
                                  "` is only allowed in the main file; included files hold `policies` and "
                                  "`accepted_domains`");
}

constexpr std::array main_fields{
    field<D>{"include", read_include},
    field<D>{"logging", [](file_reader& r, const YAML::Node& n, D& d) { read_logging(r, n, d.cfg); }},
    field<D>{"metrics", [](file_reader& r, const YAML::Node& n, D& d) { read_metrics(r, n, d.cfg); }},
    field<D>{"process", [](file_reader& r, const YAML::Node& n, D& d) { read_process(r, n, d.cfg); }},
    field<D>{"limits", [](file_reader& r, const YAML::Node& n, D& d) { read_limits(r, n, d.cfg); }},
    field<D>{"timeouts", [](file_reader& r, const YAML::Node& n, D& d) { read_timeouts(r, n, d.cfg); }},
    field<D>{"outbound", [](file_reader& r, const YAML::Node& n, D& d) { read_outbound(r, n, d.cfg); }},
    field<D>{"store", [](file_reader& r, const YAML::Node& n, D& d) { read_store(r, n, d.cfg); }},
    field<D>{"tls_reporting", [](file_reader& r, const YAML::Node& n, D& d) { read_tls_reporting(r, n, d.cfg); }},
    field<D>{"listeners", [](file_reader& r, const YAML::Node& n, D& d) { read_listeners(r, n, d.cfg); }, true},
    field<D>{"upstreams", [](file_reader& r, const YAML::Node& n, D& d) { read_upstreams(r, n, d.cfg); }},
    field<D>{"certificates", [](file_reader& r, const YAML::Node& n, D& d) { read_certificates(r, n, d.cfg); }},
    field<D>{"trust", [](file_reader& r, const YAML::Node& n, D& d) { read_trust(r, n, d.cfg); }},
    field<D>{"accepted_domains",
             [](file_reader& r, const YAML::Node& n, D& d) { read_accepted_domains(r, n, d.cfg); }},
    field<D>{"policies", [](file_reader& r, const YAML::Node& n, D& d) { read_policies(r, n, d.cfg); }},
};

constexpr std::array included_fields{
    field<D>{"accepted_domains",
             [](file_reader& r, const YAML::Node& n, D& d) { read_accepted_domains(r, n, d.cfg); }},
    field<D>{"policies", [](file_reader& r, const YAML::Node& n, D& d) { read_policies(r, n, d.cfg); }},
    field<D>{"include", main_only},      field<D>{"logging", main_only},   field<D>{"metrics", main_only},
    field<D>{"limits", main_only},       field<D>{"timeouts", main_only},  field<D>{"outbound", main_only},
    field<D>{"listeners", main_only},    field<D>{"upstreams", main_only}, field<D>{"certificates", main_only},
    field<D>{"trust", main_only},        field<D>{"process", main_only},   field<D>{"store", main_only},
    field<D>{"tls_reporting", main_only},
};

std::optional<std::string> read_text(const fs::path& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read the file: " + std::error_code(errno, std::generic_category()).message();
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return std::move(text).str();
}

// Parses one file; nullopt (with a diagnostic) when it is unreadable or not YAML.
std::optional<YAML::Node> parse_file(const fs::path& path, diagnostics& out) {
    std::string error;
    const auto text = read_text(path, error);
    if (!text) {
        out.push_back({{path.string(), 0, 0}, error});
        return std::nullopt;
    }
    try {
        return YAML::Load(*text);
    } catch (const YAML::Exception& e) {
        const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
        const int column = e.mark.is_null() ? 0 : e.mark.column + 1;
        out.push_back({{path.string(), line, column}, "YAML syntax error: " + e.msg});
        return std::nullopt;
    }
}

template <std::size_t N>
void read_file(const fs::path& path, const std::array<field<D>, N>& fields, std::string_view what, D& d,
               diagnostics& out) {
    d.cfg.files.push_back(path.string());
    const auto root = parse_file(path, out);
    if (!root) return;
    file_reader r(path.string(), path.parent_path(), out);
    read_mapping(r, *root, what, fields, d);
}

// `*.yaml` in `directory`, not hidden, sorted by name (bytewise), so the
// merge order never depends on the file system.
std::vector<fs::path> included_files(const fs::path& directory) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(directory, ec)) {
        const auto name = entry.path().filename().string();
        if (name.starts_with('.') || !name.ends_with(include_suffix)) continue;
        if (entry.is_regular_file(ec)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::string_view> upstream_names(const config& cfg) {
    std::vector<std::string_view> names;
    for (const auto& u : cfg.upstreams) names.push_back(u.name);
    return names;
}

// Checks between sections, once every file is read.
void check_listeners(const config& cfg, diagnostics& out) {
    std::vector<std::pair<host_port, source_location>> bound;
    if (cfg.metric.listen) bound.push_back({*cfg.metric.listen, {cfg.main_file, 0, 0}});
    const auto names = upstream_names(cfg);
    for (const auto& l : cfg.listeners) {
        const auto say = [&](std::string message) { out.push_back({l.where, "listener `" + l.name + "` " + message}); };
        for (const auto& address : l.listen) {
            const auto same = std::find_if(bound.begin(), bound.end(), [&](const auto& b) { return b.first == address; });
            if (same != bound.end())
                say("listens on " + to_string(address) + ", which is already used" +
                    (same->second.line > 0 ? " at " + to_string(same->second) : " by metrics"));
            else
                bound.push_back({address, l.where});
        }
        if (l.role == listener_role::inbound) {
            if (l.upstream.empty()) {
                say("has role `inbound` and needs `upstream`: the name of the backend in `upstreams`");
            } else if (!cfg.find_upstream(l.upstream)) {
                std::string message = "names upstream `" + l.upstream + "`, which is not defined in `upstreams`";
                if (const auto near = nearest(l.upstream, names)) message += "; did you mean `" + std::string(*near) + "`?";
                say(std::move(message));
            }
            if (!l.allowed_clients.empty())
                say("has role `inbound`: `allowed_clients` applies to outbound listeners only (inbound accepts "
                    "anyone, for accepted_domains only)");
            if (cfg.accepted_domains.empty())
                say("has role `inbound`, but `accepted_domains` is empty: it would refuse every recipient");
        } else {
            if (l.allowed_clients.empty())
                say("has role `outbound` and needs `allowed_clients`: the networks allowed to relay through it");
            if (!l.upstream.empty())
                say("has role `outbound`: `upstream` applies to inbound listeners only; for a smart host, give "
                    "the default policy a `route`");
        }
    }
}

// The metrics endpoint tells who sends how much mail where: on an address
// others can reach it needs credentials, or to be told that it needs none.
void check_metrics(const config& cfg, diagnostics& out) {
    const auto& m = cfg.metric;
    if (!m.listen || !m.listen->ip || m.bearer_token_file || m.basic_auth_file || m.allow_unauthenticated) return;
    const auto& ip = *m.listen->ip;
    const bool loopback = ip.af == ip_address::family::v4
                              ? ip.bytes[0] == 127
                              : std::all_of(ip.bytes.begin(), ip.bytes.end() - 1, [](auto b) { return b == 0; }) &&
                                    ip.bytes[15] == 1;
    if (!loopback)
        out.push_back({{cfg.main_file, 0, 0},
                       "metrics listens on " + to_string(*m.listen) +
                           ", which is not loopback, without `bearer_token_file` or `basic_auth_file`; set one, "
                           "or `allow_unauthenticated: true`"});
}

void check_upstreams(const config& cfg, diagnostics& out) {
    for (const auto& u : cfg.upstreams)
        if ((u.tls.level == tls_level::domain || u.tls.level == tls_level::domain_secure) && !u.tls.tls_domain)
            out.push_back({u.where, "upstream `" + u.name + "` has TLS level `" + std::string(to_name(u.tls.level)) +
                                        "` and needs `tls_domain`: the domain its certificate must match"});
}

}  // namespace

std::vector<std::string> accepted_keys() {
    config cfg;
    std::vector<include_entry> includes;
    document doc{cfg, includes};
    diagnostics ignored;  // the empty mappings are not valid values: only the keys count
    key_catalog catalog;
    file_reader r("", {}, ignored, &catalog);
    read_mapping(r, YAML::Node(YAML::NodeType::Map), "the main file", main_fields, doc);
    std::vector<std::string> keys;
    for (auto& k : catalog.keys)
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
    return keys;
}

load_result load(const fs::path& main_file) {
    auto cfg = std::make_shared<config>();
    load_result result;
    std::error_code ec;
    const fs::path main = fs::absolute(main_file, ec).lexically_normal();
    cfg->main_file = main.string();

    std::vector<include_entry> includes;
    document doc{*cfg, includes};
    read_file(main, main_fields, "the main file", doc, result.errors);
    for (const auto& include : includes)
        for (const auto& file : included_files(include.directory))
            read_file(file, included_fields, "an included file", doc, result.errors);

    if (result.errors.empty()) {  // cross-checks on a half-read config would only add noise
        check_listeners(*cfg, result.errors);
        check_upstreams(*cfg, result.errors);
        check_metrics(*cfg, result.errors);
    }
    if (result.errors.empty()) result.value = std::move(cfg);
    return result;
}

}  // namespace dsproxy::config
