// trust_markers — see trust_markers.hpp. Byte by byte in the header section
// (a few kilobytes), a single append for the body.
#include "proxy/smtp/trust_markers.hpp"

#include <algorithm>
#include <cctype>

namespace dsproxy::smtp {

namespace {

struct marker_name {
    std::string_view name;         // as RFC 5322 / RFC 8601 spell it, compared ignoring case
    std::string_view replacement;  // the same length
};
constexpr marker_name received{"received", "X-Forged"};
constexpr marker_name authentication_results{"authentication-results", "X-Forged-Authn-Results"};
static_assert(received.name.size() == received.replacement.size());
static_assert(authentication_results.name.size() == authentication_results.replacement.size());

constexpr std::size_t name_max = 64;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool iprefix(std::string_view prefix, std::string_view of) {
    return prefix.size() <= of.size() && iequal(prefix, of.substr(0, prefix.size()));
}

bool icontains(std::string_view text, std::string_view word) {
    return std::search(text.begin(), text.end(), word.begin(), word.end(),
                       [](char x, char y) { return lower(x) == lower(y); }) != text.end();
}

bool wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 5322 §3.6.8 ftext: printable US-ASCII except ":".
bool ftext(char c) { return c > 32 && c < 127 && c != ':'; }

const marker_name* marker_of(std::string_view name) {
    while (!name.empty() && wsp(name.back())) name.remove_suffix(1);
    if (iequal(name, received.name)) return &received;
    if (iequal(name, authentication_results.name)) return &authentication_results;
    return nullptr;
}

// RFC 8601 §2.2: the authserv-id, first in the field body (a token or a
// quoted string), after folding white space.
std::string_view authserv_id(std::string_view field) {
    std::string_view v = field.substr(field.find(':') + 1);
    while (!v.empty() && (wsp(v[0]) || v[0] == '\r' || v[0] == '\n')) v.remove_prefix(1);
    if (!v.empty() && v[0] == '"') {
        v.remove_prefix(1);
        return v.substr(0, v.find('"'));
    }
    return v.substr(0, std::min(v.find_first_of(" \t\r\n;("), v.size()));  // wire: RFC 8601 §2.2
}

}  // namespace

void trust_marker_filter::emit(std::string& out) {
    out += held_;
    held_.clear();
}

void trust_marker_filter::decide(std::string& out, bool complete) {
    const bool copy = kind_ == kind::received ? icontains(held_, "domain-secured")
                                              : iequal(authserv_id(held_), authserv_id_);
    if (copy || !complete) {
        const auto& m = kind_ == kind::received ? received : authentication_results;
        held_.replace(0, m.replacement.size(), m.replacement);
    }
    emit(out);
}

void trust_marker_filter::feed(std::string_view bytes, std::string& out) {
    for (std::size_t i = 0; i < bytes.size();) {
        const char c = bytes[i];
        switch (state_) {
        case state::body:
            out.append(bytes.substr(i));
            return;
        case state::name:
            if (held_.empty() && (c == '\r' || c == '\n')) {
                state_ = state::body;  // the empty line that ends the header section
            } else if (held_.empty() && wsp(c)) {
                state_ = state::other;  // a continuation of a field that is not a candidate
            } else if (c == ':' && !held_.empty()) {
                const auto* m = marker_of(held_);
                held_ += c;
                ++i;
                if (m) {
                    kind_ = m == &received ? kind::received : kind::authentication_results;
                    state_ = state::candidate;
                    line_start_ = false;
                } else {
                    emit(out);
                    state_ = state::other;
                }
            } else if (held_.size() < name_max && ftext(c) && (held_.empty() || !wsp(held_.back()))) {
                held_ += c;
                ++i;
            } else if (held_.size() < name_max && wsp(c) && !held_.empty()) {
                held_ += c;  // obsolete white space before the colon (RFC 5322 §4.5)
                ++i;
            } else {
                emit(out);  // not a field name (or one too long to be ours): pass the line on
                state_ = state::other;
            }
            break;
        case state::candidate: {
            if (line_start_) {
                line_start_ = false;
                if (!wsp(c)) {  // the field ended with the previous line
                    decide(out, true);
                    state_ = state::name;
                    break;
                }
            }
            const auto lf = bytes.find('\n', i);
            const std::size_t stop = lf == std::string_view::npos ? bytes.size() : lf + 1;
            held_.append(bytes.substr(i, stop - i));
            i = stop;
            line_start_ = lf != std::string_view::npos;
            if (held_.size() > field_max) {
                decide(out, false);
                state_ = line_start_ ? state::name : state::other;
                line_start_ = false;
            }
            break;
        }
        case state::other: {
            const auto lf = bytes.find('\n', i);
            const std::size_t stop = lf == std::string_view::npos ? bytes.size() : lf + 1;
            out.append(bytes.substr(i, stop - i));
            i = stop;
            if (lf != std::string_view::npos) state_ = state::name;
            break;
        }
        case state::renaming: {
            const auto& m = kind_ == kind::received ? received : authentication_results;
            if (renamed_ < m.name.size() && lower(c) == m.name[renamed_]) {
                out += m.replacement[renamed_++];
                ++i;
            } else {
                state_ = state::other;  // the rest of the name, the colon and the field
            }
            break;
        }
        }
    }
}

void trust_marker_filter::flush(std::string& out) {
    if (state_ == state::candidate) {
        decide(out, false);
        state_ = line_start_ ? state::name : state::other;
        line_start_ = false;
    } else if (state_ == state::name && !held_.empty()) {
        // A name cut by the chunk: if it may still become a marker's name,
        // overwrite what is here and the rest as it comes.
        const marker_name* m = iprefix(held_, received.name)                 ? &received
                               : iprefix(held_, authentication_results.name) ? &authentication_results
                                                                             : nullptr;
        if (m) {
            kind_ = m == &received ? kind::received : kind::authentication_results;
            renamed_ = held_.size();
            held_.replace(0, renamed_, m->replacement.substr(0, renamed_));
            state_ = state::renaming;
        } else {
            state_ = state::other;
        }
        emit(out);
    }
}

void trust_marker_filter::finish(std::string& out) {
    if (state_ == state::candidate) decide(out, true);
    else emit(out);
    state_ = state::body;
}

}  // namespace dsproxy::smtp
