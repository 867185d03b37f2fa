// sections_server — listeners, upstreams, the certificate store and trust
// (docs/design.md §1, §3, §4.1). See sections.hpp; defaults live in model.hpp.
#include "config/sections.hpp"

#include "config/value_kinds.hpp"

namespace dsproxy::config {

namespace {

using LS = listener;
constexpr std::array listener_fields{
    field<LS>{"listen", [](file_reader& r, const YAML::Node& n, LS& o) { r.set_list(n, a_listen_address, o.listen); },
              true},
    field<LS>{"fqdn", [](file_reader& r, const YAML::Node& n, LS& o) { r.set(n, a_domain_name, o.fqdn); }, true},
    field<LS>{"role", [](file_reader& r, const YAML::Node& n, LS& o) { r.set(n, an_enum<listener_role>, o.role); },
              true},
    field<LS>{"tls", [](file_reader& r, const YAML::Node& n, LS& o) { r.set(n, an_enum<listener_tls>, o.tls); }},
    field<LS>{"certificate", [](file_reader& r, const YAML::Node& n, LS& o) { r.set(n, a_thumbprint, o.certificate); }},
    field<LS>{"fallback",
              [](file_reader& r, const YAML::Node& n, LS& o) { r.set(n, an_enum<certificate_fallback>, o.fallback); }},
    field<LS>{"without_certificate",
              [](file_reader& r, const YAML::Node& n, LS& o) {
                  r.set(n, an_enum<listener_without_certificate>, o.without_certificate);
              }},
    field<LS>{"proxy_protocol", [](file_reader& r, const YAML::Node& n, LS& o) { r.set_list(n, a_cidr, o.proxy_protocol); }},
    field<LS>{"allowed_clients",
              [](file_reader& r, const YAML::Node& n, LS& o) { r.set_list(n, a_cidr, o.allowed_clients); }},
    field<LS>{"upstream", [](file_reader& r, const YAML::Node& n, LS& o) { r.set(n, a_text, o.upstream); }},
};

using U = upstream;
constexpr std::array upstream_fields{
    field<U>{"hosts", [](file_reader& r, const YAML::Node& n, U& o) { r.set_list(n, a_next_hop, o.hosts); }, true},
    field<U>{"xclient", [](file_reader& r, const YAML::Node& n, U& o) { r.set(n, a_bool, o.xclient); }},
    field<U>{"proxy_protocol", [](file_reader& r, const YAML::Node& n, U& o) { r.set(n, a_bool, o.proxy_protocol); }},
    field<U>{"tls", [](file_reader& r, const YAML::Node& n, U& o) {
                 read_policy(r, n, "tls of upstream `" + o.name + "`", false, o.tls);
             }},
};

using CF = certificate_file;
constexpr std::array certificate_file_fields{
    field<CF>{"certificate",
              [](file_reader& r, const YAML::Node& n, CF& o) { r.set_path(n, path_check::file, o.certificate); }, true},
    field<CF>{"key", [](file_reader& r, const YAML::Node& n, CF& o) { r.set_path(n, path_check::file, o.key); }},
    field<CF>{"client_only", [](file_reader& r, const YAML::Node& n, CF& o) { r.set(n, a_bool, o.client_only); }},
};

void read_certificate_files(file_reader& r, const YAML::Node& node, certificate_store& out) {
    out.files.clear();
    r.for_each_item(node, "a PEM file", [&](const YAML::Node& item) {
        certificate_file file;
        if (item.IsMap()) {
            read_mapping(r, item, "a certificate file entry", certificate_file_fields, file);
            if (!file.certificate.empty()) out.files.push_back(std::move(file));
        } else if (r.set_path(item, path_check::file, file.certificate), !file.certificate.empty()) {
            out.files.push_back(std::move(file));
        }
    });
}

using CS = certificate_store;
constexpr std::array certificate_fields{
    field<CS>{"files", [](file_reader& r, const YAML::Node& n, CS& o) { read_certificate_files(r, n, o); }},
    // Directories may not exist yet: the first is created when a certificate is generated.
    field<CS>{"directories",
              [](file_reader& r, const YAML::Node& n, CS& o) { r.set_path_list(n, path_check::none, o.directories); }},
    field<CS>{"auto_selfsigned", [](file_reader& r, const YAML::Node& n, CS& o) { r.set(n, a_bool, o.auto_selfsigned); }},
    field<CS>{"allow_group_readable_keys",
              [](file_reader& r, const YAML::Node& n, CS& o) { r.set(n, a_bool, o.allow_group_readable_keys); }},
    field<CS>{"ticket_key_file",
              [](file_reader& r, const YAML::Node& n, CS& o) { r.set_path(n, path_check::file, o.ticket_key_file); }},
    field<CS>{"tls13_tickets", [](file_reader& r, const YAML::Node& n, CS& o) { r.set(n, a_ticket_count, o.tls13_tickets); }},
};

using TR = trust;
constexpr std::array trust_fields{
    field<TR>{"system", [](file_reader& r, const YAML::Node& n, TR& o) { r.set(n, a_bool, o.system); }},
    field<TR>{"ca_file", [](file_reader& r, const YAML::Node& n, TR& o) { r.set_path(n, path_check::file, o.ca_file); }},
    field<TR>{"ca_dir",
              [](file_reader& r, const YAML::Node& n, TR& o) { r.set_path(n, path_check::directory, o.ca_dir); }},
    field<TR>{"crl_files",
              [](file_reader& r, const YAML::Node& n, TR& o) { r.set_path_list(n, path_check::file, o.crl_files); }},
};

}  // namespace

void read_listeners(file_reader& r, const YAML::Node& node, config& out) {
    r.walk_named(node, "listeners", [&](const YAML::Node& key, const YAML::Node& value) {
        listener l;
        l.name = key.Scalar();
        l.where = r.where(key);
        read_mapping(r, value, "listener `" + l.name + "`", listener_fields, l);
        out.listeners.push_back(std::move(l));
    });
}

void read_upstreams(file_reader& r, const YAML::Node& node, config& out) {
    r.walk_named(node, "upstreams", [&](const YAML::Node& key, const YAML::Node& value) {
        upstream u;
        u.name = key.Scalar();
        u.where = r.where(key);
        u.tls.where = u.where;
        read_mapping(r, value, "upstream `" + u.name + "`", upstream_fields, u);
        out.upstreams.push_back(std::move(u));
    });
}

void read_certificates(file_reader& r, const YAML::Node& node, config& out) {
    read_mapping(r, node, "certificates", certificate_fields, out.certificates);
    if (out.certificates.auto_selfsigned && out.certificates.directories.empty())
        r.error(node, "`auto_selfsigned` needs `directories`: generated certificates are written to the first one");
}

void read_trust(file_reader& r, const YAML::Node& node, config& out) {
    read_mapping(r, node, "trust", trust_fields, out.trust_store);
}

}  // namespace dsproxy::config
