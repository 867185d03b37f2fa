// file_transaction — the files one `dsproxy cert` command writes, written so
// that either all of them appear or none does (docs/design.md §4.2).
//
// Owns: staging each file as a temporary in its target's directory (created
// 0600 by mkstemp, then given its mode, written and fsynced before any name
// changes), and committing them in the order staged: an exclusive file by
// link(2), which fails if the name exists, so that a private key is never
// overwritten and two commands cannot both create it; a replaced file by
// rename(2), the old one kept under a second (hard-linked) name until the
// commit is complete. A failure part way undoes the names already committed; the
// destructor removes what was not committed. A reader (dsproxy reloading)
// sees either the old file or the new one, never a truncated one.
// Ownership: a replaced file keeps its owner and group (an administrator's
// `chown dsproxy:` survives a renewal); a new file written by root gets the
// owner and group of its directory (the store is owned by the run user).
// Must not: decide what is written, or log.
// Limits: temporaries start with '.', which the store never loads.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::tls {

class file_transaction {
public:
    file_transaction() = default;
    file_transaction(const file_transaction&) = delete;
    file_transaction& operator=(const file_transaction&) = delete;
    file_transaction(file_transaction&& other) noexcept;
    file_transaction& operator=(file_transaction&&) = delete;
    ~file_transaction();

    // Writes `bytes` to a temporary beside `path`. With `exclusive`, a file
    // already at `path` is an error now (and again at commit).
    bool stage(const std::string& path, std::string_view bytes, mode_t mode, bool exclusive, std::string& error);

    // Gives every staged file its name, in order; on failure nothing staged
    // is left under its name and the replaced files are back.
    bool commit(std::string& error);

    // The staged files that replace an existing one (for the caller's report).
    bool replaces(const std::string& path) const;

private:
    struct staged {
        std::string path;
        std::string temp;
        bool exclusive = false;
        bool existed = false;
        std::string backup;  // the replaced file, during commit
        bool named = false;  // committed under `path`
    };
    void roll_back();
    std::vector<staged> files_;
};

}  // namespace dsproxy::tls
