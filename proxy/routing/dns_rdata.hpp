// dns_rdata — decoding the RDATA of the record types dsproxy asks for
// (sans-I/O): MX (RFC 1035 §3.3.9), A and AAAA (RFC 1035 §3.4.1, RFC 3596),
// TXT (RFC 1035 §3.3.14).
//
// Owns: turning validated wire data, as the resolver hands it over
// (uncompressed names), into the values of dns_answer.hpp.
// Must not: do I/O; trust lengths (every read is bounds-checked, a short or
// overlong record is "malformed", never a read past the end).
//
// Threats: RDATA is remote input. A name label may hold any octet; labels
// are rendered with RFC 4343 escapes (`\DDD` for anything outside
// letters, digits and hyphen), so such a name never passes the planner's
// host-name check and never reaches a log line raw.
#pragma once

#include "proxy/routing/dns_answer.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dsproxy::routing {

// A wire-format name at `data[offset..]` (no compression pointers) as
// dotted text without the final dot; "" is the root. Advances `offset`.
std::optional<std::string> decode_name(std::span<const unsigned char> data, std::size_t& offset);

std::optional<mx_record> decode_mx(std::span<const unsigned char> rdata);
// "192.0.2.1" / "2001:db8::1".
std::optional<host_address> decode_address(ip_family family, std::span<const unsigned char> rdata);
// The character-strings of one TXT record, concatenated (RFC 7208 §3.3 and
// RFC 8461 §3.1 read a multi-string record as one string).
std::optional<std::string> decode_txt(std::span<const unsigned char> rdata);

}  // namespace dsproxy::routing
