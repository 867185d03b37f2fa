// privileges — which account `dsproxy run` serves as (docs/design.md §8, issue 8).
//
// Started as root, dsproxy binds its listeners and reads its keys, then
// switches to `process.user` for good (supplementary groups, group, user,
// in that order), as Postfix's and nginx's daemons do; it refuses to keep
// running as root unless told to (`process.allow_root`, `--allow-root`).
// Started as another user (systemd's User= with CAP_NET_BIND_SERVICE for
// port 25), nothing changes; a `user` naming someone else is ignored with a
// warning, as nginx does with its `user` directive.
//
// Owns: the decision (decide(): pure, unit-tested), the account lookup
// (getpwnam_r/getgrnam_r) and the switch itself.
// Must not: log (run_command does), or run after the I/O threads exist: a
// switch must happen while the process has one thread.
// Threat: a switch that half-succeeds (uid changed, supplementary groups
// kept; or root regainable through the saved set-user-ID) would look safe
// and not be. switch_to() checks afterwards that root cannot be regained.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace dsproxy::net {

struct account {
    std::string user;
    std::string group;
    uid_t uid = 0;
    gid_t gid = 0;
};

// `user` and, when given, `group` (else the user's primary group). nullopt
// with a sentence in `error` when either does not exist.
std::optional<account> find_account(const std::string& user, const std::optional<std::string>& group,
                                    std::string& error);

enum class privilege_action {
    keep,          // run as we are
    switch_user,   // root now: become `target` after binding
    keep_as_root,  // root, and told that this is fine
    ignore_user,   // not root: `user` names someone else; warn and run as we are
    refuse,        // root, and not told to stay root: exit 1
};

struct privilege_decision {
    privilege_action action = privilege_action::keep;
    std::string message;  // for warn/refuse: one sentence an administrator can act on
};

// `euid`: the process's effective uid now. `target`: the looked-up
// `process.user`, or nullopt when none is configured. `allow_root`: the
// configuration's or the command line's.
privilege_decision decide(uid_t euid, const std::optional<account>& target, bool allow_root);

// setgroups (initgroups: the user's supplementary groups), setgid, setuid;
// then verifies the real, effective and saved ids and that setuid(0) fails.
// False with `error` set. Call while the process has one thread.
bool switch_to(const account& a, std::string& error);

}  // namespace dsproxy::net
