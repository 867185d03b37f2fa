// sections_store — `store` and `tls_reporting` (docs/design.md §6.4): where outbound
// TLS policy state lives, and who signs the TLS reports (RFC 8460).
// See sections.hpp; defaults live in model.hpp.
#include "config/sections.hpp"

#include "config/value_kinds.hpp"

#include <charconv>

namespace dsproxy::config {

namespace {

// redis://host[:port][/db]: host an IP literal ([v6] bracketed) or a name.
std::optional<redis_address> parse_redis_url(std::string_view text, std::string* error) {
    constexpr std::string_view scheme = "redis://";
    const auto fail = [&](std::string why) -> std::optional<redis_address> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    if (text.substr(0, scheme.size()) != scheme) return fail("expected `redis://host:port/db`");
    text.remove_prefix(scheme.size());
    std::uint64_t db = 0;
    const auto slash = text.find('/');
    if (slash != std::string_view::npos) {
        const auto digits = text.substr(slash + 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), db);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || db > 15)
            return fail("the database after `/` must be a number from 0 to 15");
        text = text.substr(0, slash);
    }
    const auto hp = parse_host_port(text, {true, std::uint16_t{6379}}, error);
    if (!hp) return std::nullopt;
    return redis_address{hp->host, hp->port, db};
}

// local@domain (no display name, no angle brackets).
std::optional<std::string> parse_mail_address(std::string_view text, std::string* error) {
    const auto at = text.rfind('@');
    const auto local = text.substr(0, at == std::string_view::npos ? 0 : at);
    bool printable = !local.empty();
    for (const char c : local)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '<' || c == '>' ||
            c == '"' || c == '\\' || c == '@')
            printable = false;
    if (at == std::string_view::npos || !printable) {
        if (error) *error = "expected a mail address such as `tlsrpt@example.com`";
        return std::nullopt;
    }
    auto domain = parse_domain_name(text.substr(at + 1), error);
    if (!domain) return std::nullopt;
    return std::string(local) + '@' + *domain;
}

constexpr value_kind<redis_address> a_redis_url{[] { return std::string("a Redis URL such as `redis://127.0.0.1:6379/0`"); },
                                                parse_redis_url};
constexpr value_kind<std::string> a_mail_address{[] { return std::string("a mail address"); }, parse_mail_address};

using S = store_settings;
constexpr std::array store_fields{
    field<S>{"path", [](file_reader& r, const YAML::Node& n, S& o) { r.set_path(n, path_check::none, o.path); }},
    field<S>{"redis", [](file_reader& r, const YAML::Node& n, S& o) { r.set(n, a_redis_url, o.redis); }},
    field<S>{"timeout", [](file_reader& r, const YAML::Node& n, S& o) { r.set(n, a_timeout, o.timeout); }},
};

using TR = tls_reporting;
constexpr std::array reporting_fields{
    field<TR>{"organization", [](file_reader& r, const YAML::Node& n, TR& o) { r.set(n, a_text, o.organization); }, true},
    field<TR>{"contact", [](file_reader& r, const YAML::Node& n, TR& o) { r.set(n, a_text, o.contact); }, true},
    field<TR>{"from", [](file_reader& r, const YAML::Node& n, TR& o) { r.set(n, a_mail_address, o.from); }, true},
    field<TR>{"submitter", [](file_reader& r, const YAML::Node& n, TR& o) { r.set(n, a_domain_name, o.submitter); }},
};

}  // namespace

void read_store(file_reader& r, const YAML::Node& node, config& out) {
    read_mapping(r, node, "store", store_fields, out.store);
    if (out.store.path && out.store.redis)
        r.error(node, "`store` takes `path` (SQLite) or `redis` (shared by a fleet), not both");
}

void read_tls_reporting(file_reader& r, const YAML::Node& node, config& out) {
    tls_reporting reporting;
    read_mapping(r, node, "tls_reporting", reporting_fields, reporting);
    out.reporting = std::move(reporting);
}

}  // namespace dsproxy::config
