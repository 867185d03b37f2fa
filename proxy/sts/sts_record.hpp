// sts_record — the `_mta-sts.<domain>` TXT record of RFC 8461 §3.1.
//
// Owns: choosing the one record out of a TXT answer and reading its policy
// id. `v=STSv1; id=20160831085700Z;` — the id is 1 to 32 letters and digits
// and only says whether the cached policy is still current (§5.1).
// Must not: look anything up (the resolver hands over the answer's
// strings), or decide what a missing record means for delivery (sts_cache).
//
// Rules (§3.1): records that do not begin with "v=STSv1;" are discarded;
// if not exactly one is left, or it does not follow the grammar, the domain
// has no usable policy. Unknown extension fields are ignored, a repeated id
// makes the record invalid.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::sts {

enum class record_status {
    ok,        // exactly one valid record
    none,      // no record of this kind in the answer
    multiple,  // more than one record of this kind: treated as none (RFC 8461 §3.1)
    invalid,   // one record that breaks the grammar or lacks a required field
};

std::string_view to_string(record_status s) noexcept;

struct sts_record {
    record_status status = record_status::none;
    std::string id;  // when status == ok
};

// `answer`: the TXT records of `_mta-sts.<domain>`, each with its
// character-strings already concatenated (RFC 7208 §3.3 style).
sts_record select_sts_record(const std::vector<std::string>& answer);

// Parses one record that starts with "v=STSv1;" (exposed for the fuzzer).
sts_record parse_sts_record(std::string_view record);

}  // namespace dsproxy::sts
