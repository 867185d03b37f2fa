// fuzz_client_session — the upstream leg (docs/design.md §2, §3, §6.3, §10) fed an
// arbitrary script of upstream bytes interleaved with the requests of the
// server side and the STARTTLS handshake results. The input format is
// fuzz_input.hpp's; fuzz/make_session_seeds.py writes the seeds.
//
// First byte: bits 0-1 the STARTTLS policy (value % 3: none, opportunistic,
// required), bit 2 XCLIENT. Then records: op = pick(14):
//   0 mail(flags)  1 rcpt  2 begin_data(flag)  3 bdat(pick 64, flag)
//   4 bytes(text 64)  5 end_of_data  6 abort  7 quit
//   8 handshake result (only while handshaking, as the engine does)
//   9 upstream closed  10 timeout  11 a canned upstream reply
//   (kReplies[pick]: EHLO with and without STARTTLS/CHUNKING/SIZE, 220 to
//   STARTTLS with a reply staged behind it, ...)  12-13 raw bytes text(255)
// Invariants, besides the sanitizers:
//   - nothing is sent after close, between start_tls and its result, or
//     behind a STARTTLS not yet answered (RFC 3207 §4: no pipelining);
//   - start_tls ends its batch (a reply staged behind the upstream's 220
//     is never read as if it came through TLS), happens only when the
//     policy allows STARTTLS, and at most once;
//   - STARTTLS stripping: with the policy `required`, no MAIL, RCPT, DATA,
//     BDAT or XCLIENT is ever sent before the handshake succeeded;
//   - capability tampering: after the handshake the first thing sent is a
//     new EHLO and the capabilities learned before TLS are forgotten; a
//     MAIL parameter (SIZE, BODY=8BITMIME, SMTPUTF8) or a BDAT is sent only
//     when the capabilities in force advertise it;
//   - SMTP smuggling: BDAT content converted to DATA for an upstream without
//     CHUNKING is sent with no bare CR or LF.
#include "fuzz/fuzz_input.hpp"
#include "proxy/smtp/client_session.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <type_traits>

using namespace dsproxy::smtp;
namespace ca = dsproxy::smtp::client_actions;

namespace {

constexpr std::string_view kReplies[] = {
    "220 up.example ESMTP\r\n",
    "250-up.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SIZE 1000\r\n",
    "250-up.example\r\n250-CHUNKING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250 SIZE 100000\r\n",
    "250-up.example\r\n250-STARTTLS\r\n250-CHUNKING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
    "250-up.example\r\n250 XCLIENT ADDR NAME HELO PROTO\r\n",
    "250 up.example\r\n",
    "220 2.0.0 Ready to start TLS\r\n",
    "220 2.0.0 Ready to start TLS\r\n250 2.1.0 injected\r\n",
    "454 4.7.0 TLS not available\r\n",
    "250 2.1.0 Ok\r\n",
    "354 go ahead\r\n",
    "451 4.3.0 try later\r\n",
    "550 5.1.1 no such user\r\n",
    "221 2.0.0 bye\r\n",
    "500 5.5.2 what\r\n",
    "250-partial\r\n",
};

bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// SMTP smuggling: BDAT content converted to DATA must hold no bare CR or LF,
// so that the upstream can read only one end of data.
bool one_reading(std::string_view b) {
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (b[i] == '\r' && (i + 1 == b.size() || b[i + 1] != '\n')) return false;
        if (b[i] == '\n' && (i == 0 || b[i - 1] != '\r')) return false;
    }
    return true;
}

// DSPROXY_FUZZ_TRACE=1 prints every action to stderr (to see what a seed reaches).
const bool trace = std::getenv("DSPROXY_FUZZ_TRACE") != nullptr;

void print(const client_action& act) {
    std::visit([](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ca::send>) std::fprintf(stderr, "  send %s", x.bytes.c_str());
        else if constexpr (std::is_same_v<T, ca::log_note>) std::fprintf(stderr, "  note %s\n", x.text.c_str());
        else if constexpr (std::is_same_v<T, ca::start_tls>) std::fprintf(stderr, "  start_tls\n");
        else if constexpr (std::is_same_v<T, ca::result>) std::fprintf(stderr, "  result %d\n", x.value.code);
        else if constexpr (std::is_same_v<T, ca::failure>) std::fprintf(stderr, "  failure %s\n", x.reason.c_str());
        else std::fprintf(stderr, "  close\n");
    }, act);
}

struct checker {
    const client_session& c;
    upstream_tls policy;
    bool closed = false;
    bool handshaking = false;
    bool tls = false;
    bool starttls_sent = false;
    bool expect_ehlo = false;  // the handshake just succeeded: a new EHLO must come first
    bool converting = false;   // BDAT requested of an upstream without CHUNKING: sent as DATA
    bool starttls_unanswered = false;  // STARTTLS sent, no upstream bytes since
    bool content_call = false;  // the batch is what bytes() sent: message content, not commands

    void batch(const std::vector<client_action>& out) {
        bool after_start_tls = false;
        for (const auto& act : out) {
            if (trace) print(act);
            if (std::holds_alternative<ca::log_note>(act)) continue;
            if (after_start_tls) std::abort();
            if (auto* s = std::get_if<ca::send>(&act)) {
                if (closed || handshaking) std::abort();
                check_send(s->bytes);
            } else if (std::holds_alternative<ca::start_tls>(act)) {
                if (closed || handshaking || tls || starttls_sent || policy == upstream_tls::none) std::abort();
                starttls_sent = handshaking = after_start_tls = true;
            } else if (std::holds_alternative<ca::close_connection>(act)) {
                closed = true;
            } else if (auto* r = std::get_if<ca::result>(&act)) {
                if (r->stage == upstream_stage::end_of_data || (r->stage == upstream_stage::data && r->value.code != 354))
                    converting = false;
            } else if (std::holds_alternative<ca::failure>(act)) {
                converting = false;
            }
        }
    }

    void check_send(std::string_view b) {
        if (starttls_unanswered) std::abort();  // pipelined behind STARTTLS (RFC 3207 §4)
        if (converting && !one_reading(b)) std::abort();
        if (content_call) return;  // message bytes: they may look like anything
        if (starts(b, "STARTTLS")) starttls_unanswered = true;
        if (expect_ehlo) {
            if (!starts(b, "EHLO ")) std::abort();
            expect_ehlo = false;
        }
        const bool transaction = starts(b, "MAIL FROM:") || starts(b, "RCPT TO:") || starts(b, "DATA\r\n") ||
                                 starts(b, "BDAT ") || starts(b, "XCLIENT");
        if (transaction && policy == upstream_tls::required && !tls) std::abort();  // STARTTLS stripped
        if (starts(b, "STARTTLS") && (policy == upstream_tls::none || tls)) std::abort();
        const capabilities& caps = c.upstream_capabilities();
        if (starts(b, "BDAT ") && !caps.chunking) std::abort();
        if (starts(b, "MAIL FROM:")) {
            if (b.find(" SIZE=") != std::string_view::npos && !caps.size) std::abort();
            if (b.find(" BODY=8BITMIME") != std::string_view::npos && !caps.eight_bit_mime) std::abort();
            if (b.find(" SMTPUTF8") != std::string_view::npos && !caps.smtputf8) std::abort();
        }
    }

    // What the upstream sent: it may answer the STARTTLS.
    void upstream(const std::vector<client_action>& out) {
        starttls_unanswered = false;
        batch(out);
    }

    void handshake_done(const std::vector<client_action>& out, bool ok) {
        handshaking = false;
        if (c.state() == client_state::closed) closed = true;  // e.g. the peer left after our QUIT
        if (ok && !closed) {
            tls = expect_ehlo = true;
            const capabilities& caps = c.upstream_capabilities();
            if (caps.size || caps.chunking || caps.starttls || caps.eight_bit_mime || caps.pipelining) std::abort();
        }
        batch(out);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    dsproxy::fuzz::fuzz_input in(data, size);
    client_options o;
    const std::uint8_t setup = in.byte();
    o.starttls = static_cast<upstream_tls>((setup & 3) % 3);
    if (setup & 4) o.xclient = xclient_facts{"192.0.2.1", "c.example", "h e", "ESMTP"};
    o.limits.reply_lines_max = 20;
    o.limits.pending_input_max = 2048;
    client_session c(o);
    checker k{c, o.starttls};
    const path rp = parse_path("<a@b.example>", path_kind::reverse).value;
    const path fp = parse_path("<u@contoso.com>", path_kind::forward).value;
    while (!in.empty()) {
        switch (in.pick(14)) {
        case 0: {
            const auto f = in.byte();
            mail_parameters mp;
            mp.smtputf8 = (f & 1) != 0;
            mp.body = static_cast<body_type>((f >> 1) % 4);
            if (f & 8) mp.size = static_cast<std::uint64_t>(f) * 97;
            if (f & 16) mp.ret = dsn_ret::full;
            k.batch(c.mail(rp, mp));
            break;
        }
        case 1: k.batch(c.rcpt(fp, {})); break;
        case 2: {
            const bool bdat = in.flag();
            const bool in_transaction = c.state() == client_state::transaction;
            const auto out = c.begin_data(bdat ? data_mode::bdat : data_mode::data);
            if (in_transaction) k.converting = bdat && !c.upstream_capabilities().chunking;
            k.batch(out);
            break;
        }
        case 3: {
            const auto n = in.pick(64);
            k.batch(c.bdat(n, in.flag()));
            break;
        }
        case 4:
            k.content_call = true;
            k.batch(c.bytes(std::string(in.text(64))));
            k.content_call = false;
            break;
        case 5: k.batch(c.end_of_data()); break;
        case 6: k.batch(c.abort()); break;
        case 7: k.batch(c.quit()); break;
        case 8:
            if (k.handshaking) {
                const bool ok = in.flag();
                k.handshake_done(ok ? c.on_tls_established() : c.on_tls_failed(), ok);
            }
            break;
        case 9: k.batch(c.on_closed()); break;
        case 10: k.batch(c.on_timeout()); break;
        case 11: k.upstream(c.on_bytes(kReplies[in.pick(std::size(kReplies))])); break;
        default: k.upstream(c.on_bytes(in.text()));
        }
    }
    return 0;
}
