// name_matcher — does a certificate's presented names cover a reference name?
//
// Owns: the two rule sets of docs/design.md §5.
//   domain rules (Exchange Domain Security), reference domain D:
//     exact          name == D
//     wildcard       name == "*." + D
//     one-node-deep  name == L + "." + D, L one non-wildcard label
//   host rules (RFC 6125 / RFC 7817), reference host H:
//     exact          name == H
//     wildcard       name == "*." + R, H == L + "." + R, R at least two labels
// The strongest rule over all presented names wins (exact > wildcard >
// one-node-deep), and the result names the presented name that won.
//
// Never matched: partial wildcards (`m*.contoso.com`; Exchange reads these as
// literal names, dsproxy refuses them), wildcards below the first label,
// names deeper than one node, wildcards over a parent of D, IP SANs.
//
// Must not: do I/O, log, or parse certificates (tls/ extracts the names).
// Pure function of its inputs. "Peername checks are security sensitive":
// every presented name passes through canonicalize_presented() first.
#pragma once

#include "matching/dns_name.hpp"
#include "matching/idn.hpp"

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::matching {

// docs/design.md §5: at most this many names of one certificate are considered.
inline constexpr std::size_t max_presented_names = 1024;

enum class rule_set { domain, host };
enum class rule { exact, wildcard, one_node_deep };
enum class cn_fallback {
    no_san,  // subject CNs only when the certificate has no dNSName SAN (default)
    always,  // subject CNs always considered besides the SANs
};

std::string_view to_string(rule r) noexcept;
std::string_view to_string(rule_set r) noexcept;
std::string_view to_string(cn_fallback f) noexcept;
std::optional<cn_fallback> parse_cn_fallback(std::string_view text) noexcept;
std::ostream& operator<<(std::ostream& os, rule r);

// The names a certificate presents, as given (not yet validated). IP SANs are
// not listed here: they never match a domain or host name.
struct presented_names {
    std::vector<std::string> dns_names;     // subjectAltName dNSName entries
    std::vector<std::string> common_names;  // subject CN values, certificate order
};

enum class name_source { san, cn };
std::string_view to_string(name_source s) noexcept;

// What happened to one presented name.
struct name_verdict {
    std::string name;                      // as presented
    name_source source = name_source::san;
    std::optional<ignore_reason> ignored;  // set: left out of matching, and why
    std::optional<rule> matched;           // set: this name satisfied this rule
};

struct match_result {
    bool matched = false;
    rule how = rule::exact;        // meaningful when matched
    std::string matched_name;      // the presented name (as given) that won
    std::vector<name_verdict> names;  // every presented name, in the order considered

    // Convenience views for log lines.
    std::vector<const name_verdict*> ignored() const;
};

struct match_options {
    rule_set rules = rule_set::domain;
    cn_fallback cns = cn_fallback::no_san;
};

// Matches `presented` against the reference under `options`. The reference is
// already normalised (see reference_name::parse), so this cannot fail.
match_result match(const reference_name& reference, const presented_names& presented,
                   const match_options& options = {});

}  // namespace dsproxy::matching
