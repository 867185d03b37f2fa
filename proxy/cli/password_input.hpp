// password_input — the password of a PKCS#12 file, from a file or a prompt
// (docs/design.md §4.2). Never from the command line: arguments are visible
// to every user in ps(1) and /proc, and land in shell histories.
//
// Owns: reading `--password-file FILE` (its first line, without the line
// end; a file readable by others is refused) and prompting on the
// controlling terminal with echo off.
// Must not: log or keep the password beyond the caller's string.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::cli {

// The password in a password file's bytes: up to the first line end (LF or CR LF).
std::string password_of_file_bytes(std::string_view bytes);

// From `file` when given, else from the terminal (`confirm`: asked twice,
// for a new file). nullopt with the reason in `error` when there is none:
// no file and no terminal, an unreadable file, the two entries differ.
std::optional<std::string> read_password(const std::string& file, const std::string& prompt, bool confirm,
                                         std::string& error);

}  // namespace dsproxy::cli
