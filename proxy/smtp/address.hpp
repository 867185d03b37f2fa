// address — RFC 5321 §4.1.2 paths: "<>", "<@a,@b:user@c>", quoted local parts,
// address literals, and RFC 6531 UTF-8 addresses.
//
// Owns: the path grammar and the facts relay control needs (the domain after
// the last unquoted "@", whether the local part holds routing operators).
// Must not: decide relaying (the session asks its policy), or normalise IDNs
// (matching/idn.hpp does that).
//
// Threats (docs/design.md §10, not an open relay): source routes are parsed and
// stripped, never followed; "user%other@", "other!user@" and quoted local
// parts holding "@" are reported by has_routing_operators() so the session
// can refuse them; invalid UTF-8 is a syntax error; a path is at most
// `path_max` octets (RFC 5321 §4.5.3.1.3: 256).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dsproxy::smtp {

struct mailbox {
    std::string local_part;   // as written; a quoted local part keeps its quotes
    std::string domain;       // as written; "[192.0.2.1]" for a literal; empty for <postmaster>
    bool quoted = false;
    bool address_literal = false;
    bool non_ascii = false;   // UTF-8 somewhere: needs SMTPUTF8 (RFC 6531)

    // "local@domain" (or just "postmaster"), without angle brackets.
    std::string address() const { return domain.empty() ? local_part : local_part + '@' + domain; }
};

struct path {
    bool null = false;           // "<>", the null reverse-path
    bool had_source_route = false;
    mailbox box;
    // "<local@domain>" with the source route stripped, or "<>".
    std::string to_wire() const { return null ? "<>" : '<' + box.address() + '>'; }
};

enum class path_error { none, syntax, too_long };

struct path_parse {
    path_error error = path_error::none;
    path value;
    std::string_view rest;  // what follows the closing '>' (ESMTP parameters)
};

enum class path_kind { reverse, forward };

// Parses the path at the start of `text` (after "FROM:" / "TO:" and any
// spaces). A reverse path may be "<>"; a forward path may be "<postmaster>".
path_parse parse_path(std::string_view text, path_kind kind, std::size_t path_max = 256);

// Relay control: a local part with '%', '!' or '@' asks for sender-specified
// routing (Postfix: allow_untrusted_routing = no refuses it).
bool has_routing_operators(const mailbox& box) noexcept;

// Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view text) noexcept;

}  // namespace dsproxy::smtp
