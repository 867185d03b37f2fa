// file_transaction — see file_transaction.hpp.
#include "tls/file_transaction.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace dsproxy::tls {

namespace fs = std::filesystem;

namespace {

std::string directory_of(const std::string& path) {
    const fs::path dir = fs::path(path).parent_path();
    return dir.empty() ? "." : dir.string();
}

// A temporary name in `path`'s directory, made by mkstemp (mode 0600, O_EXCL).
int make_temporary(const std::string& path, const char* kind, std::string& temp) {
    std::string pattern = (fs::path(directory_of(path)) / ("." + fs::path(path).filename().string() + kind)).string();
    pattern += ".XXXXXX";
    const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd >= 0) temp = pattern;
    return fd;
}

bool write_all(int fd, std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

void sync_directory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

file_transaction::file_transaction(file_transaction&& other) noexcept
    : files_(std::move(other.files_)) {
    other.files_.clear();
}

file_transaction::~file_transaction() {
    for (const auto& f : files_)
        if (!f.temp.empty()) ::unlink(f.temp.c_str());
}

bool file_transaction::stage(const std::string& path, std::string_view bytes, mode_t mode, bool exclusive,
                             std::string& error) {
    struct stat existing{};
    const bool existed = ::stat(path.c_str(), &existing) == 0;
    if (existed && exclusive) {
        error = path + " already exists; not overwritten";
        return false;
    }
    if (existed && !S_ISREG(existing.st_mode)) {
        error = "cannot write " + path + ": not a regular file";
        return false;
    }
    staged f;
    f.path = path;
    f.exclusive = exclusive;
    f.existed = existed;
    const int fd = make_temporary(path, ".new", f.temp);
    if (fd < 0) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        return false;
    }
    // Owner first, mode second: fchown may clear set-id bits, and the
    // temporary is 0600 until both are right.
    struct stat dir{};
    if (existed) {
        if (::fchown(fd, existing.st_uid, existing.st_gid) != 0) { /* not ours to give: keep ours */ }
    } else if (::geteuid() == 0 && ::stat(directory_of(path).c_str(), &dir) == 0) {
        if (::fchown(fd, dir.st_uid, dir.st_gid) != 0) { /* as above */ }
    }
    bool ok = ::fchmod(fd, mode) == 0 && write_all(fd, bytes) && ::fsync(fd) == 0;
    const int saved = errno;
    if (::close(fd) != 0) ok = false;
    if (!ok) {
        error = "cannot write " + path + ": " + std::strerror(saved ? saved : errno);
        ::unlink(f.temp.c_str());
        return false;
    }
    files_.push_back(std::move(f));
    return true;
}

bool file_transaction::commit(std::string& error) {
    for (auto& f : files_) {
        bool ok;
        if (f.exclusive) {
            ok = ::link(f.temp.c_str(), f.path.c_str()) == 0;
            if (!ok) error = errno == EEXIST ? f.path + " already exists; not overwritten"
                                             : "cannot write " + f.path + ": " + std::strerror(errno);
            else ::unlink(f.temp.c_str());
        } else {
            ok = true;
            if (f.existed) {
                // A second name for the old file (a hard link: its name stays
                // in place, so readers never miss it), to put it back should
                // a later file of this commit fail.
                const int fd = make_temporary(f.path, ".old", f.backup);
                if (fd < 0) {
                    ok = false;
                    error = "cannot replace " + f.path + ": " + std::strerror(errno);
                } else {
                    ::close(fd);
                    ::unlink(f.backup.c_str());
                    if (::link(f.path.c_str(), f.backup.c_str()) != 0) {
                        const int e = errno;
                        f.backup.clear();
                        if (e != ENOENT) {  // ENOENT: removed since stage(), nothing to keep
                            ok = false;
                            error = "cannot replace " + f.path + ": " + std::strerror(e);
                        }
                    }
                }
            }
            if (ok && ::rename(f.temp.c_str(), f.path.c_str()) != 0) {
                ok = false;
                error = "cannot replace " + f.path + ": " + std::strerror(errno);
            }
        }
        if (!ok) {
            roll_back();
            return false;
        }
        f.named = true;
        f.temp.clear();
    }
    for (auto& f : files_) {
        if (!f.backup.empty()) ::unlink(f.backup.c_str());
        f.backup.clear();
    }
    std::vector<std::string> dirs;
    for (const auto& f : files_) {
        const auto d = directory_of(f.path);
        bool seen = false;
        for (const auto& x : dirs) seen = seen || x == d;
        if (!seen) dirs.push_back(d);
    }
    for (const auto& d : dirs) sync_directory(d);
    return true;
}

void file_transaction::roll_back() {
    for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
        if (!it->backup.empty()) {
            ::rename(it->backup.c_str(), it->path.c_str());  // atomically back to the old file
            it->backup.clear();
        } else if (it->named) {
            ::unlink(it->path.c_str());
        }
        it->named = false;
    }
}

bool file_transaction::replaces(const std::string& path) const {
    for (const auto& f : files_)
        if (f.path == path) return f.existed;
    return false;
}

}  // namespace dsproxy::tls
