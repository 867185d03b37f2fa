// fuzz_server_session — the client-facing state machine (docs/design.md §2, §10) fed
// an arbitrary script of client bytes interleaved with the events the engine
// delivers: STARTTLS handshake results (also at the wrong moment), upstream
// replies and failures, timeouts and disconnects. The input format is
// fuzz_input.hpp's; fuzz/make_session_seeds.py writes the seeds.
//
// Record: op = pick(12), then
//   0-3  raw client bytes: text(255)
//   4    a canned client command (kCommands[pick]) — verbs, pipelined
//        STARTTLS, relay tricks — so deep states are reachable quickly
//   5    the upstream answers what is awaited: code = kCodes[pick]
//   6    the upstream fails at the awaited stage
//   7    TLS handshake result: flag() ? established(flags byte) : failed
//   8    timeout; 9 client closed; 10 upstream reply for a stage nobody
//        awaits; 11 TLS established at a random moment
// Invariants, besides the sanitizers:
//   - nothing is sent to the client or the upstream after close;
//   - every reply is well-formed wire text (ddd, '-' or ' ', CRLF);
//   - CVE-2011-0411: start_tls ends its batch (what was pipelined behind
//     STARTTLS never runs); during the handshake no reply is written (it
//     would be plaintext inside TLS) and client bytes cause no upstream action; the handshake result itself runs
//     nothing (no earlier input is executed inside TLS); after it the state is
//     need-helo with nothing awaited; STARTTLS is never started twice, and
//     the EHLO reply inside TLS never offers it;
//   - not an open relay: every recipient that reaches the upstream is in the
//     accepted domain (contoso.com) with no routing operators in its local part;
//   - end of data reaches the upstream only after DATA content began in a
//     transaction that was not aborted.
#include "fuzz/fuzz_input.hpp"
#include "matching/idn.hpp"
#include "proxy/smtp/server_session.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <type_traits>

using namespace dsproxy::smtp;
using namespace std::string_view_literals;
namespace a = dsproxy::smtp::actions;

namespace {

constexpr std::string_view kCommands[] = {
    "EHLO client.example\r\n",
    "HELO client.example\r\n",
    "STARTTLS\r\n",
    "STARTTLS\r\nMAIL FROM:<evil@attacker.example>\r\n",
    "MAIL FROM:<a@b.example>\r\n",
    "MAIL FROM:<a@b.example> BODY=8BITMIME SIZE=100\r\n",
    "MAIL FROM:<>\r\n",
    "MAIL FROM:<j\xc3\xb6rg@b.example> SMTPUTF8\r\n",
    "RCPT TO:<u@contoso.com>\r\n",
    "RCPT TO:<U@CONTOSO.COM> NOTIFY=SUCCESS\r\n",
    "RCPT TO:<postmaster>\r\n",
    "RCPT TO:<u@other.example>\r\n",
    "RCPT TO:<u%other.example@contoso.com>\r\n",
    "RCPT TO:<other.example!u@contoso.com>\r\n",
    "RCPT TO:<@contoso.com:u@other.example>\r\n",
    "RCPT TO:<@other.example:u@contoso.com>\r\n",
    "RCPT TO:<\"u@other.example\"@contoso.com>\r\n",
    "RCPT TO:<u@[192.0.2.1]>\r\n",
    "RCPT TO:<u@contoso.com.>\r\n",
    "DATA\r\n",
    "hello\r\n",
    "..dot\r\n",
    "bare\nlf\r\n",
    ".\r\n",
    "\r\n.\r\n",
    "BDAT 5\r\nhello",
    "BDAT 0 LAST\r\n",
    "BDAT 3 LAST\r\nabc",
    "RSET\r\n",
    "NOOP\r\n",
    "QUIT\r\n",
    "GET / HTTP/1.1\r\n",
    "\x16\x03\x01\x00\x05hello"sv,  // a TLS record header: sv keeps the NUL
    "VRFY u\r\n",
    "EXPN list\r\n",
    "HELP\r\n",
    "AUTH PLAIN\r\n",
    "STARTTLS now\r\n",
};
constexpr int kCodes[] = {250, 251, 354, 421, 451, 452, 550, 552, 554, 221};

bool accepted_recipient(const path& p) {
    if (has_routing_operators(p.box)) return false;
    if (p.box.domain.empty()) return true;  // <postmaster>, the backend's own
    const auto d = dsproxy::matching::reference_name::parse(p.box.domain);
    return d && d->text() == "contoso.com" && !p.box.address_literal;
}

bool well_formed_reply(std::string_view t) {
    if (t.size() < 5 || t.substr(t.size() - 2) != "\r\n") return false;
    std::string_view code;
    while (!t.empty()) {
        const auto end = t.find("\r\n");
        if (end == std::string_view::npos || end < 3) return false;
        const auto line = t.substr(0, end);
        t.remove_prefix(end + 2);
        for (int i = 0; i < 3; ++i)
            if (line[i] < '0' || line[i] > '9') return false;
        if (!code.empty() && line.substr(0, 3) != code) return false;
        code = line.substr(0, 3);
        const char sep = line.size() > 3 ? line[3] : ' ';
        if (sep != ' ' && sep != '-') return false;
        if ((sep == ' ') != t.empty()) return false;  // only the last line ends with "ddd "
        if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return false;
    }
    return true;
}

// DSPROXY_FUZZ_TRACE=1 prints every action to stderr (to see what a seed reaches).
const bool trace = std::getenv("DSPROXY_FUZZ_TRACE") != nullptr;

void print(const server_action& act) {
    std::visit([](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, a::send_reply>) std::fprintf(stderr, "  reply %s", x.text.c_str());
        else if constexpr (std::is_same_v<T, a::log_note>) std::fprintf(stderr, "  note %s\n", x.text.c_str());
        else if constexpr (std::is_same_v<T, a::upstream_mail>) std::fprintf(stderr, "  upstream MAIL for %s\n", x.first_recipient.to_wire().c_str());
        else if constexpr (std::is_same_v<T, a::upstream_rcpt>) std::fprintf(stderr, "  upstream RCPT %s\n", x.forward_path.to_wire().c_str());
        else if constexpr (std::is_same_v<T, a::upstream_bytes>) std::fprintf(stderr, "  upstream %zu bytes\n", x.bytes.size());
        else std::fprintf(stderr, "  action %zu\n", server_action(x).index());
    }, act);
}

struct checker {
    const server_session& s;
    bool starttls_offered;
    bool closed = false;
    bool handshaking = false;    // start_tls emitted, no TLS event yet
    bool tls = false;
    bool aborted = false;        // since the last upstream_mail
    bool content = false;        // upstream_data emitted since the last upstream_mail
    bool ehlo_pending = false;   // the last EHLO-looking reply: is STARTTLS in it?

    void batch(const std::vector<server_action>& out, bool client_bytes) {
        bool after_start_tls = false;
        for (const auto& act : out) {
            if (trace) print(act);
            if (std::holds_alternative<a::log_note>(act)) continue;
            if (closed) std::abort();  // anything but a log line after close
            if (after_start_tls) std::abort();  // pipelined input ran behind STARTTLS
            if (handshaking && client_bytes) std::abort();  // plaintext during the handshake did something
            if (handshaking && std::holds_alternative<a::send_reply>(act)) std::abort();  // plaintext into TLS
            if (auto* r = std::get_if<a::send_reply>(&act)) {
                if (!well_formed_reply(r->text)) std::abort();
                if (r->text.starts_with("250-") && r->text.find("\r\n250-PIPELINING") != std::string::npos) {
                    const bool offers = r->text.find("STARTTLS\r\n") != std::string::npos;
                    if (offers != (starttls_offered && !tls)) std::abort();
                }
            } else if (std::holds_alternative<a::start_tls>(act)) {
                if (tls || handshaking || !starttls_offered) std::abort();
                handshaking = after_start_tls = true;
            } else if (std::holds_alternative<a::close_connection>(act)) {
                closed = true;
                handshaking = false;
            } else if (auto* m = std::get_if<a::upstream_mail>(&act)) {
                if (!accepted_recipient(m->first_recipient)) std::abort();
                aborted = content = false;
            } else if (auto* r = std::get_if<a::upstream_rcpt>(&act)) {
                if (!accepted_recipient(r->forward_path)) std::abort();
            } else if (std::holds_alternative<a::upstream_abort>(act)) {
                aborted = true;
            } else if (std::holds_alternative<a::upstream_data>(act)) {
                content = true;
            } else if (std::holds_alternative<a::upstream_end_of_data>(act)) {
                if (aborted || !content) std::abort();
            }
        }
        if (after_start_tls && s.state() != server_state::tls_handshake) std::abort();
    }

    void tls_event(const std::vector<server_action>& out, bool established, bool was_handshaking) {
        batch(out, false);
        if (!was_handshaking) return;
        handshaking = false;
        if (established) {
            // The client has said nothing inside TLS yet: anything but a log
            // line here is input from before the handshake being executed.
            for (const auto& act : out)
                if (!std::holds_alternative<a::log_note>(act)) std::abort();
            tls = true;
            if (s.state() != server_state::need_helo || s.awaiting()) std::abort();
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    dsproxy::fuzz::fuzz_input in(data, size);
    server_options o;
    o.fqdn = "mx.contoso.com";
    const std::uint8_t setup = in.byte();
    o.starttls_offered = (setup & 1) == 0;
    o.data_bare_newline = (setup & 2) ? bare_newline_policy::normalize : bare_newline_policy::reject;
    o.mail_refusal_per_recipient = (setup & 4) != 0;
    o.rename_trust_markers = (setup & 16) != 0;
    o.limits.bad_commands_max = 1 + in.pick(30);
    o.limits.recipients_max = 1 + in.pick(5);
    o.limits.message_size_max = static_cast<std::uint64_t>(in.byte()) * 16;
    o.limits.text_line_max = 3 + in.pick(200);
    o.limits.pending_input_max = 16 + static_cast<std::size_t>(in.byte()) * 16;
    o.clock = [] { return std::chrono::system_clock::time_point{}; };
    session_policy p;
    p.accepts_domain = [](std::string_view d) { return d == "contoso.com"; };
    server_session s(o, p);
    checker c{s, o.starttls_offered};
    if (setup & 8) c.batch(s.on_bytes("EHLO early\r\n"), true);  // an early talker
    c.batch(s.start(), false);
    while (!in.empty()) {
        switch (in.pick(12)) {
        case 4: c.batch(s.on_bytes(kCommands[in.pick(std::size(kCommands))]), true); break;
        case 5:
            if (const auto st = s.awaiting()) {
                int code = kCodes[in.pick(std::size(kCodes))];
                c.batch(s.on_upstream_reply(*st, make_reply(code, "2.0.0 fuzz upstream")), false);
            }
            break;
        case 6:
            if (const auto st = s.awaiting()) c.batch(s.on_upstream_failed(*st, "fuzz"), false);
            break;
        case 7: {
            const bool was = c.handshaking;
            if (in.flag()) {
                const auto f = in.byte();
                c.tls_event(s.on_tls_established({"TLSv1.3", "X", 128, (f & 1) != 0, (f & 2) != 0}), true, was);
            } else {
                c.tls_event(s.on_tls_failed(), false, was);
            }
            break;
        }
        case 8: c.batch(s.on_timeout(), false); break;
        case 9: c.batch(s.on_client_closed(), false); break;
        case 10:
            c.batch(s.on_upstream_reply(static_cast<upstream_stage>(in.pick(5)), make_reply(250, "2.0.0 stray")),
                    false);
            break;
        case 11: {
            const bool was = c.handshaking;
            c.tls_event(s.on_tls_established({"TLSv1.2", "Y", 256, false, false}), true, was);
            break;
        }
        default: c.batch(s.on_bytes(in.text()), true);
        }
    }
    c.batch(s.on_client_closed(), false);
    return 0;
}
