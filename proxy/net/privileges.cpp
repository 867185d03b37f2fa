// privileges — see privileges.hpp.
#include "proxy/net/privileges.hpp"

#include <cerrno>
#include <cstring>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace dsproxy::net {

namespace {

std::string why(int error) { return std::strerror(error); }

// getpwnam_r/getgrnam_r need a buffer whose size sysconf suggests (or not).
std::size_t lookup_buffer_size(int which) {
    const long n = ::sysconf(which);
    return n > 0 ? static_cast<std::size_t>(n) : 16384;
}

}  // namespace

std::optional<account> find_account(const std::string& user, const std::optional<std::string>& group_name,
                                    std::string& error) {
    account a;
    {
        struct passwd pw{};
        struct passwd* found = nullptr;
        std::vector<char> buffer(lookup_buffer_size(_SC_GETPW_R_SIZE_MAX));
        const int rc = ::getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found);
        if (!found) {
            error = "user `" + user + "` does not exist" + (rc != 0 ? " (" + why(rc) + ")" : "");
            return std::nullopt;
        }
        a.user = pw.pw_name;
        a.uid = pw.pw_uid;
        a.gid = pw.pw_gid;
    }
    {
        struct group gr{};
        struct group* found = nullptr;
        std::vector<char> buffer(lookup_buffer_size(_SC_GETGR_R_SIZE_MAX));
        const int rc = group_name ? ::getgrnam_r(group_name->c_str(), &gr, buffer.data(), buffer.size(), &found)
                                  : ::getgrgid_r(a.gid, &gr, buffer.data(), buffer.size(), &found);
        if (!found) {
            if (group_name) {
                error = "group `" + *group_name + "` does not exist" + (rc != 0 ? " (" + why(rc) + ")" : "");
                return std::nullopt;
            }
            a.group = std::to_string(a.gid);  // a primary gid without a name is legal
        } else {
            a.group = gr.gr_name;
            a.gid = gr.gr_gid;
        }
    }
    return a;
}

privilege_decision decide(uid_t euid, const std::optional<account>& target, bool allow_root) {
    if (euid != 0) {
        if (target && target->uid != euid)
            return {privilege_action::ignore_user,
                    "process.user " + target->user + " is ignored: dsproxy was not started as root (it runs as uid " +
                        std::to_string(euid) + ")"};
        return {privilege_action::keep, {}};
    }
    if (target && target->uid != 0) return {privilege_action::switch_user, {}};
    if (allow_root) return {privilege_action::keep_as_root, "running as root (process.allow_root)"};
    if (target)
        return {privilege_action::refuse,
                "process.user " + target->user +
                    " is root; name an unprivileged account, or set process.allow_root: true to run as root"};
    return {privilege_action::refuse,
            "refusing to run as root: set process.user to the account to switch to once the listeners are "
            "bound (e.g. `user: dsproxy`), or process.allow_root: true (or --allow-root) to stay root"};
}

bool switch_to(const account& a, std::string& error) {
    // Groups first: once the uid is not 0 the process may no longer change them.
    if (::initgroups(a.user.c_str(), a.gid) != 0) {
        error = "initgroups(" + a.user + "): " + why(errno);
        return false;
    }
    if (::setgid(a.gid) != 0) {
        error = "setgid(" + std::to_string(a.gid) + "): " + why(errno);
        return false;
    }
    if (::setuid(a.uid) != 0) {
        error = "setuid(" + std::to_string(a.uid) + "): " + why(errno);
        return false;
    }
    // As root, setuid/setgid set the real, effective and saved ids; check
    // all three, and that there is no way back.
    uid_t ruid = 0, euid = 0, suid = 0;
    gid_t rgid = 0, egid = 0, sgid = 0;
    if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0 || ruid != a.uid ||
        euid != a.uid || suid != a.uid || rgid != a.gid || egid != a.gid || sgid != a.gid) {
        error = "the user and group ids did not all change to " + std::to_string(a.uid) + ":" + std::to_string(a.gid);
        return false;
    }
    if (::setuid(0) == 0) {
        error = "root could be regained after switching to " + a.user;
        return false;
    }
    return true;
}

}  // namespace dsproxy::net
