// maildir — writes messages into a Maildir (tmp/ then rename into new/), for
// `dsproxy sink`, the development SMTP server. Not a mail store: no locking
// beyond Maildir's own rename, no quotas.
//
// Owns: the open temporary file of one message at a time.
// Must not: make a message visible in new/ before it is complete and synced.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace dsproxy::net {

class maildir {
public:
    // Creates dir/{tmp,new,cur} when missing. Throws std::runtime_error on
    // failure (a start-up error).
    explicit maildir(std::filesystem::path dir);

    // Starts a message. Returns false (and sets `error`) when the file
    // cannot be created.
    bool begin(std::string& error);
    bool append(std::string_view data, std::string& error);
    // Syncs and renames into new/; returns the final file name.
    bool commit(std::string& name, std::string& error);
    // Drops the message being written (client went away, or refused).
    void abort() noexcept;

    const std::filesystem::path& dir() const noexcept { return dir_; }
    // fsync before the rename (default). Off only for benchmarks.
    void set_fsync(bool on) noexcept { fsync_ = on; }

private:
    struct file_closer {
        void operator()(std::FILE* f) const noexcept { std::fclose(f); }
    };
    std::filesystem::path dir_;
    std::unique_ptr<std::FILE, file_closer> file_;
    std::filesystem::path tmp_path_;
    std::string name_;
    bool fsync_ = true;
};

}  // namespace dsproxy::net
