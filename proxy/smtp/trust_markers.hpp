// trust_markers — renames, in the header section of a message that a client
// sends to an inbound listener, the copies of dsproxy's trust marker that
// came with it (issue 16 item 5; README "Which header a backend may trust"):
// a Received field that says "domain-secured", and an Authentication-Results
// field that claims the listener's fqdn as its authserv-id (RFC 8601 §5:
// such fields from outside must be removed or renamed). The field name is
// overwritten in place by one of the same length — "X-Forged" for
// "Received", "X-Forged-Authn-Results" for "Authentication-Results" — so the
// field stays readable, the stream keeps its length (BDAT chunk sizes stay
// right) and nothing is reordered.
//
// Owns: finding header fields across read and chunk boundaries, folding
// included (RFC 5322 §2.2.3, and obsolete white space before the colon,
// §4.5), in the header section only; from the first empty line on every byte
// passes as it is.
// Must not: do I/O, or hold more than one candidate field (field_max).
// Limits: a candidate field longer than field_max, or one that the end of a
// BDAT chunk cuts (flush()), is renamed without being read to its end, so a
// copy cannot hide behind its length or the chunking; a genuine field so cut
// loses only its name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dsproxy::smtp {

class trust_marker_filter {
public:
    // `authserv_id`: the listener's fqdn, which dsproxy's marker names.
    explicit trust_marker_filter(std::string authserv_id) : authserv_id_(std::move(authserv_id)) {}

    // Appends `bytes` to `out`, the copies renamed; may hold the start of a
    // field until its end is seen.
    void feed(std::string_view bytes, std::string& out);
    // The end of a BDAT chunk that is not the last: appends everything held.
    void flush(std::string& out);
    // The end of the message: appends everything held.
    void finish(std::string& out);

    // The longest candidate field held; RFC 5322 §2.1.1 lines are 998 octets.
    static constexpr std::size_t field_max = 8 * 1024;

private:
    enum class kind { none, received, authentication_results };
    enum class state {
        name,       // at a line start or inside a field name (held_)
        candidate,  // inside a Received / Authentication-Results field (held_)
        other,      // inside any other field, or a line that is none: passed on
        renaming,   // a candidate name cut by flush(): its next bytes are overwritten
        body,       // past the header section
    };
    void decide(std::string& out, bool complete);
    void emit(std::string& out);

    std::string authserv_id_;
    state state_ = state::name;
    kind kind_ = kind::none;
    std::string held_;
    bool line_start_ = false;     // in `candidate`: the held field just ended a line
    std::size_t renamed_ = 0;     // in `renaming`: name bytes already overwritten
};

}  // namespace dsproxy::smtp
