// password_input — see password_input.hpp.
#include "proxy/cli/password_input.hpp"

#include "tls/pem_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dsproxy::cli {

namespace {

// One line from the terminal `fd`, echo off; nullopt at end of input.
std::optional<std::string> prompt_line(int fd, const std::string& prompt) {
    if (::write(fd, prompt.data(), prompt.size()) < 0) return std::nullopt;
    termios old{};
    const bool tty = ::tcgetattr(fd, &old) == 0;
    if (tty) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    std::string line;
    bool got_end = false;
    char c;
    while (::read(fd, &c, 1) == 1) {
        if (c == '\n') {
            got_end = true;
            break;
        }
        line.push_back(c);
        if (line.size() > 1024) break;  // no password is that long; a stuck input is
    }
    if (tty) ::tcsetattr(fd, TCSAFLUSH, &old);
    if (::write(fd, "\n", 1) < 0) { /* the newline is cosmetic */ }
    if (!got_end && line.empty()) return std::nullopt;
    return password_of_file_bytes(line);
}

}  // namespace

std::string password_of_file_bytes(std::string_view bytes) {
    const auto end = bytes.find('\n');
    std::string_view line = bytes.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return std::string(line);
}

std::optional<std::string> read_password(const std::string& file, const std::string& prompt, bool confirm,
                                         std::string& error) {
    if (!file.empty()) {
        struct stat st{};
        if (::stat(file.c_str(), &st) == 0 && (st.st_mode & S_IROTH)) {
            error = "password file " + file + " is readable by others; chmod o-r it";
            return std::nullopt;
        }
        auto bytes = tls::read_file(file, error);
        if (!bytes) return std::nullopt;
        return password_of_file_bytes(*bytes);
    }
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        error = "no terminal to ask for the password on: give --password-file FILE";
        return std::nullopt;
    }
    auto first = prompt_line(fd, prompt + ": ");
    std::optional<std::string> again;
    if (first && confirm) again = prompt_line(fd, prompt + " (again): ");
    ::close(fd);
    if (!first) {
        error = "no password entered";
        return std::nullopt;
    }
    if (confirm && (!again || *again != *first)) {
        error = "the two passwords differ";
        return std::nullopt;
    }
    return first;
}

}  // namespace dsproxy::cli
