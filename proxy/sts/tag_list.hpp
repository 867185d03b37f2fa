// tag_list — the "v=VERSION; name=value; ..." syntax shared by the two TXT
// records of outbound TLS policy: `_mta-sts` (RFC 8461 §3.1) and
// `_smtp._tls` (RFC 8460 §3). Sans-I/O, no allocation beyond the result.
//
// Owns: splitting one record (its character-strings already concatenated)
// into its fields, and the grammar both RFCs share:
//   record    = version 1*(delim field) [delim]
//   delim     = *WSP ";" *WSP
//   field     = name "=" value
//   name      = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
// The value rules differ (the rua list holds spaces around its commas), so
// each record checks its own values; the splitter only refuses control
// characters and empty values.
// Must not: decide which fields a record needs (sts_record, tlsrpt_record).
//
// Threats: TXT data is attacker-controlled bytes; NUL and other control
// characters, over-long names and empty fields make the record invalid.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace dsproxy::sts {

struct tag {
    std::string_view name;
    std::string_view value;  // WSP around it removed
};

// True when `record` starts with `version` followed by ";" (RFC 8461 §3.1,
// RFC 8460 §3: records that do not are not of this kind and are discarded
// before the "exactly one record" rule is applied). `version` is "v=STSv1"
// or "v=TLSRPTv1"; the comparison is case-sensitive (%s in the ABNF).
bool starts_with_version(std::string_view record, std::string_view version) noexcept;

// The fields after the version, in order, or nullopt when the record does not
// follow the grammar above. Duplicate names are returned as they are: the
// caller decides (both records refuse a duplicate of a field they know).
std::optional<std::vector<tag>> split_tags(std::string_view record, std::string_view version);

// RFC 8461 §3.1 / RFC 8460 §3 extension name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
bool is_tag_name(std::string_view name) noexcept;

// 1*(%x21-3A / %x3C / %x3E-7E): printable ASCII without "=" and ";".
bool is_tag_value(std::string_view value) noexcept;

}  // namespace dsproxy::sts
