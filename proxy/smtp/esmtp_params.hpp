// esmtp_params — the ESMTP parameters of MAIL and RCPT (RFC 5321 §4.1.2).
//
// Owns: parsing and validating SIZE (RFC 1870), BODY (RFC 6152, RFC 3030),
// SMTPUTF8 (RFC 6531), RET/ENVID/NOTIFY/ORCPT (RFC 3461, values as xtext) and
// AUTH= (RFC 4954 §5), and writing them back out. Must not: decide which ones
// an upstream receives (client_session filters by its capabilities).
//
// Limits from the RFCs: ENVID at most 100 octets, ORCPT at most 500, SIZE at
// most 20 digits. Anything else in a parameter string is refused: an unknown
// keyword is 555 5.5.4, a malformed or repeated one 501 5.5.4.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::smtp {

enum class body_type { unspecified, seven_bit, eight_bit_mime, binary_mime };
enum class dsn_ret { unspecified, full, headers };

// RFC 3461 NOTIFY: NEVER, or any of SUCCESS, FAILURE, DELAY.
enum notify_flag : unsigned { notify_never = 1, notify_success = 2, notify_failure = 4, notify_delay = 8 };

struct mail_parameters {
    std::optional<std::uint64_t> size;
    body_type body = body_type::unspecified;
    bool smtputf8 = false;
    dsn_ret ret = dsn_ret::unspecified;
    std::optional<std::string> envid;  // xtext, as received
    std::optional<std::string> auth;   // xtext or "<>", as received; never relayed

    // " SIZE=123 BODY=8BITMIME ..." (each with a leading space), AUTH left out.
    std::string to_wire() const;
};

struct rcpt_parameters {
    unsigned notify = 0;               // notify_flag bits; 0 = not given
    std::optional<std::string> orcpt;  // "addr-type;xtext", as received

    std::string to_wire() const;
};

enum class param_error {
    none,
    syntax,     // not "KEYWORD[=value]" separated by spaces: 501 5.5.4
    unknown,    // keyword not supported: 555 5.5.4
    duplicate,  // keyword given twice: 501 5.5.4
    bad_value,  // value out of its grammar or limit: 501 5.5.4
};

struct param_result {
    param_error error = param_error::none;
    std::string keyword;  // the offending keyword, upper case, for the reply text
};

// `text` is what follows the path's '>' (empty, or starting with a space).
param_result parse_mail_parameters(std::string_view text, mail_parameters& out);
param_result parse_rcpt_parameters(std::string_view text, rcpt_parameters& out);

// RFC 3461 §4: xchar (33..126 except '+' and '=') or "+" two upper-case hex digits.
bool valid_xtext(std::string_view text) noexcept;

// Encodes any octet string as xtext (for XCLIENT values, RFC 3461 §4).
std::string encode_xtext(std::string_view raw);

}  // namespace dsproxy::smtp
