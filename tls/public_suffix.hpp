// public_suffix — whether a DNS name is a public suffix (`com`, `co.uk`,
// `github.io`): a name under which anyone may register, so that a wildcard
// over it (`*.com`) or a certificate for it names everybody's hosts
// (docs/design.md §4.2).
//
// Owns: asking libpsl, with the newest of its built-in list and the system's
// (Debian's `publicsuffix` package), ICANN and private sections both, and
// without the implicit `*` rule (an unlisted top-level name such as
// `localhost` or `test` is not taken for a suffix).
// Must not: decide what to do about it (san_names refuses), or log.
#pragma once

#include <string_view>

namespace dsproxy::tls {

// `name`: an A-label name, lower case, without a trailing dot.
bool is_public_suffix(std::string_view name);

}  // namespace dsproxy::tls
