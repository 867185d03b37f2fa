// maildir — see maildir.hpp.
#include "proxy/net/maildir.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace dsproxy::net {

namespace {

std::string unique_name() {
    static std::atomic<unsigned> sequence{0};
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    return std::to_string(us / 1000000) + ".M" + std::to_string(us % 1000000) + "P" + std::to_string(getpid()) +
           "Q" + std::to_string(sequence.fetch_add(1)) + "." + host;
}

}  // namespace

maildir::maildir(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    for (const char* sub : {"tmp", "new", "cur"}) {
        std::filesystem::create_directories(dir_ / sub, ec);
        if (ec) throw std::runtime_error("cannot create Maildir " + (dir_ / sub).string() + ": " + ec.message());
    }
}

bool maildir::begin(std::string& error) {
    abort();
    name_ = unique_name();
    tmp_path_ = dir_ / "tmp" / name_;
    file_.reset(std::fopen(tmp_path_.c_str(), "wbx"));
    if (!file_) {
        error = "cannot create " + tmp_path_.string() + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

bool maildir::append(std::string_view data, std::string& error) {
    if (!file_) {
        error = "no message in progress";
        return false;
    }
    if (std::fwrite(data.data(), 1, data.size(), file_.get()) != data.size()) {
        error = "cannot write " + tmp_path_.string() + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

bool maildir::commit(std::string& name, std::string& error) {
    if (!file_) {
        error = "no message in progress";
        return false;
    }
    if (std::fflush(file_.get()) != 0 || (fsync_ && fsync(fileno(file_.get())) != 0)) {
        error = "cannot sync " + tmp_path_.string() + ": " + std::strerror(errno);
        abort();
        return false;
    }
    file_.reset();
    std::error_code ec;
    std::filesystem::rename(tmp_path_, dir_ / "new" / name_, ec);
    if (ec) {
        error = "cannot move message into new/: " + ec.message();
        std::filesystem::remove(tmp_path_, ec);
        return false;
    }
    name = name_;
    return true;
}

void maildir::abort() noexcept {
    if (!file_) return;
    file_.reset();
    std::error_code ec;
    std::filesystem::remove(tmp_path_, ec);
}

}  // namespace dsproxy::net
