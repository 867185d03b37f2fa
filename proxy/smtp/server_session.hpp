// server_session — the client-facing SMTP leg as a sans-I/O state machine.
//
// Owns: the SMTP conversation with one client (docs/design.md §2): banner, EHLO/HELO
// and the extension list, STARTTLS, the MAIL/RCPT/DATA/BDAT transaction, the
// limits, relay control, and end-to-end acknowledgement (the final reply to
// a message is the upstream's own). Must not: do I/O, read the clock except
// through options.clock, log (it returns log_note actions), or talk to the
// upstream itself (it returns upstream_* actions).
//
// Rules, after h11:
//  1. Everything that changes this state lives in this file pair and in
//     server_commands.cpp; the command table there says which verb is legal
//     in which state and what an illegal one gets (503 5.5.1 and friends).
//  2. Client bytes are processed only while no upstream reply is awaited; the
//     rest waits in a buffer bounded by limits.pending_input_max.
//  3. Bytes that follow STARTTLS in the same read are dropped, never executed
//     after the handshake (CVE-2011-0411); after TLS a new EHLO is required.
//  4. Nothing is ever acknowledged with 250 that the upstream did not accept;
//     an upstream failure becomes 451 4.4.x; a client that vanishes
//     mid-transaction yields upstream_abort, never upstream_end_of_data.
//
// How to drive it (one coroutine per session):
//   server_session s(options, policy);
//   optional: wait a greet pause; if the client talks first, run(s.on_bytes(b))
//   run(s.start());                                  // 220 banner
//   while (!s.closed()) {
//       if (s.wants_input()) n = co_await read(client) -> run(s.on_bytes({buf, n}))
//       else wait for the upstream leg -> run(s.on_upstream_reply(stage, r))
//                                       or run(s.on_upstream_failed(stage, why))
//       deadline expired -> run(s.on_timeout()); peer closed -> run(s.on_client_closed())
//   }
// run() carries out the actions in order: send_reply -> write to the client;
// start_tls -> handshake, then run(s.on_tls_established(facts)) or
// on_tls_failed(); upstream_* -> the client_session of the upstream leg;
// close_connection -> close; log_note -> the session's logger.
#pragma once

#include "proxy/smtp/address.hpp"
#include "proxy/smtp/message_content.hpp"
#include "proxy/smtp/command_parser.hpp"
#include "proxy/smtp/data_reader.hpp"
#include "proxy/smtp/trust_markers.hpp"
#include "proxy/smtp/esmtp_params.hpp"
#include "proxy/smtp/limits.hpp"
#include "proxy/smtp/line_framer.hpp"
#include "proxy/smtp/reply.hpp"
#include "proxy/smtp/session_types.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dsproxy::smtp {

// What the sender policy (docs/design.md §6.2) says at MAIL FROM.
struct sender_verdict {
    std::optional<reply> refusal;  // e.g. 530 5.7.1; nothing = accepted
    bool domain_secured = false;   // marks the Received header
};

// Injected decisions. Both have safe defaults: no domain is accepted (never
// an open relay) and every sender passes.
struct session_policy {
    // `domain` is canonical: A-labels, lower case, no trailing dot.
    std::function<bool(std::string_view domain)> accepts_domain;
    std::function<sender_verdict(const path& reverse_path, const std::optional<tls_facts>& tls)> check_sender;
    // Counts a MAIL the sender policy passed against the client's message
    // rate; a reply refuses it (421: and closes the session). Unset: no limit.
    std::function<std::optional<reply>()> admit_message;
};

struct server_options {
    std::string fqdn = "localhost";
    std::string session_id;
    std::string client_address;
    std::string client_hostname;
    bool starttls_offered = false;  // listener has a certificate and tls: starttls
    // Outbound: a refusal of the upstream transaction (routing or TLS policy
    // of the first recipient's domain) answers that RCPT only; the next RCPT
    // opens the transaction again (its domain may route elsewhere). Inbound:
    // the refusal holds for the rest of the transaction.
    bool mail_refusal_per_recipient = false;
    // EHLO lists DSN (RFC 3461). Inbound only when the upstream's last EHLO
    // did: dsproxy has no queue, so it cannot send the "relayed" DSN that
    // RFC 3461 §4.1 asks of a relay to a server without DSN.
    bool advertise_dsn = true;
    smtp_limits limits;
    bare_newline_policy data_bare_newline = bare_newline_policy::reject;
    // Inbound listeners: copies of dsproxy's trust marker in the message's
    // header section are renamed (trust_markers.hpp), `fqdn` being the
    // authserv-id.
    bool rename_trust_markers = false;
    std::function<std::chrono::system_clock::time_point()> clock;  // default: system_clock::now
};

namespace actions {
struct send_reply { std::string text; };          // wire text, CRLF included
struct start_tls {};
// Opens the upstream transaction; `first_recipient` is the RCPT that needs it
// (outbound routing picks the next hop by its domain).
struct upstream_mail { path reverse_path; mail_parameters params; path first_recipient; };
struct upstream_rcpt { path forward_path; rcpt_parameters params; };
struct upstream_data { data_mode mode; };          // then wait for stage `data` (354)
struct upstream_bdat { std::uint64_t size; bool last; };  // a chunk of `size` bytes follows
struct upstream_bytes { std::string bytes; };      // message bytes (DATA: wire form; BDAT: raw)
struct upstream_end_of_data {};                    // DATA's final ".\r\n"
struct upstream_abort {};                          // drop the upstream transaction, never deliver it
struct close_connection {};
struct log_note { std::string text; };
}  // namespace actions

using server_action =
    std::variant<actions::send_reply, actions::start_tls, actions::upstream_mail, actions::upstream_rcpt,
                 actions::upstream_data, actions::upstream_bdat, actions::upstream_bytes,
                 actions::upstream_end_of_data, actions::upstream_abort, actions::close_connection,
                 actions::log_note>;

enum class server_state {
    pre_banner,     // accepted, banner not yet sent (early talker detection)
    need_helo,      // banner sent, or TLS just established: EHLO/HELO required
    ready,          // greeted, no transaction
    mail,           // MAIL accepted, no recipient yet
    rcpt,           // at least one RCPT answered (accepted or not)
    data,           // reading DATA content
    bdat,           // reading the bytes of one BDAT chunk
    tls_handshake,  // 220 to STARTTLS sent; the engine is handshaking
    closed,
};

std::string_view to_string(server_state s) noexcept;

// One MAIL transaction as the server leg sees it (private to server_session).
struct server_transaction {
    path reverse_path;
    mail_parameters params;
    bool domain_secured = false;
    bool upstream_open = false;        // upstream accepted our MAIL
    bool upstream_touched = false;     // upstream_mail was emitted
    std::optional<reply> refusal;      // upstream refused MAIL or failed: answer with this
    std::optional<std::pair<path, rcpt_parameters>> pending_rcpt;
    std::size_t recipients = 0;        // accepted by the upstream
    std::string first_recipient;
    bool bdat_mode = false;
    bool upstream_data_started = false;
    std::uint64_t bdat_total = 0;
    bool undeclared_8bit = false;      // 8-bit content without BODY=8BITMIME was logged
    bool recipient_limit_noted = false;
};

class server_session {
public:
    server_session(server_options options, session_policy policy);

    std::vector<server_action> start();
    std::vector<server_action> on_bytes(std::string_view bytes);
    std::vector<server_action> on_tls_established(tls_facts facts);
    std::vector<server_action> on_tls_failed();
    std::vector<server_action> on_upstream_reply(upstream_stage stage, const reply& r);
    std::vector<server_action> on_upstream_failed(upstream_stage stage, std::string_view reason);
    std::vector<server_action> on_timeout();
    std::vector<server_action> on_client_closed();

    server_state state() const noexcept { return state_; }
    // The client leg's TLS, once established (nullopt before or without it).
    const std::optional<tls_facts>& tls() const noexcept { return tls_; }
    // The client's HELO/EHLO name (empty before it), and whether it was EHLO.
    const std::string& helo_name() const noexcept { return helo_; }
    bool esmtp() const noexcept { return esmtp_; }
    bool closed() const noexcept { return state_ == server_state::closed; }
    // False while an upstream reply is awaited, during the TLS handshake and
    // after close: the engine should not read from the client then.
    bool wants_input() const noexcept;
    std::optional<upstream_stage> awaiting() const noexcept { return waiting_; }
    bool tls_active() const noexcept { return tls_.has_value(); }
    unsigned bad_commands() const noexcept { return bad_commands_; }

private:
    // server_commands.cpp: the table and one handler per verb.
    struct command_row {
        verb id;
        unsigned allowed;             // bit per server_state
        const char* out_of_sequence;  // reply when not allowed (need_helo gets "send EHLO first")
        void (server_session::*handle)(const command&);
    };
    static const command_row command_table[15];
    static const command_row* find_row(verb id) noexcept;
    void reply_param_error(const param_result& r, std::string_view which);
    void dispatch(std::string_view line);
    void run_command(const command& c);
    void cmd_ehlo(const command& c);
    void cmd_helo(const command& c);
    void cmd_mail(const command& c);
    void cmd_rcpt(const command& c);
    void cmd_data(const command& c);
    void cmd_bdat(const command& c);
    void cmd_rset(const command& c);
    void cmd_noop(const command& c);
    void cmd_quit(const command& c);
    void cmd_vrfy(const command& c);
    void cmd_expn(const command& c);
    void cmd_help(const command& c);
    void cmd_starttls(const command& c);
    void cmd_auth(const command& c);
    void cmd_http(const command& c);
    void relay_check_and_send_rcpt(path p, rcpt_parameters params);

    // server_session.cpp: input loop, content, upstream events.
    std::vector<server_action> take();
    void process();
    void process_data();
    // DATA content from `in` (input_ or, on the fast path, the read itself);
    // returns the bytes used.
    std::size_t process_data_from(std::string_view in);
    void process_bdat();
    void finish_data();
    void finish_chunk();
    void check_chunk_content();
    reply line_too_long_reply() const;
    void note_line_too_long();
    void note_undeclared_8bit(std::string_view content);
    void begin_content();
    void send(const reply& r);
    void send(int code, std::string_view text);
    void bad_command(int code, std::string_view text);
    bool follows_refused_mail();
    void note(std::string text);
    void abort_upstream();
    void reset_transaction();
    void close();
    std::string received_header() const;

    server_options options_;
    session_policy policy_;
    server_state state_ = server_state::pre_banner;
    std::vector<server_action> out_;
    std::string input_;
    line_framer framer_;
    std::optional<upstream_stage> waiting_;
    std::optional<tls_facts> tls_;
    std::string helo_;
    bool esmtp_ = false;
    unsigned bad_commands_ = 0;
    // After a refused MAIL: how many of the 503s that follow from it (to the
    // RCPTs, DATA and BDAT a pipelining client sent behind it) are still
    // answered without counting towards bad_commands_max (docs/design.md §2).
    std::size_t refused_mail_followers_ = 0;
    std::optional<server_transaction> txn_;
    std::optional<data_reader> data_;
    std::optional<trust_marker_filter> markers_;  // options_.rename_trust_markers: this message's
    bool content_aborted_ = false;
    // The BDAT chunk being read.
    std::uint64_t chunk_remaining_ = 0;
    std::uint64_t chunk_size_ = 0;
    bool chunk_last_ = false;
    std::optional<reply> chunk_error_;
    bool chunk_is_bad_command_ = false;  // chunk_error_ answers a BDAT that was out of sequence
    newline_scanner chunk_scanner_;
};

}  // namespace dsproxy::smtp
