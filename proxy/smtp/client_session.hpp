// client_session — the upstream SMTP leg as a sans-I/O state machine.
//
// Owns: one connection to an upstream (the backend, or a next hop): banner,
// EHLO (HELO as fallback), STARTTLS per policy, EHLO again, optional XCLIENT
// (Postfix; the upstream answers 220 and wants EHLO once more), then the
// transactions server_session asks for, with MAIL/RCPT parameters filtered
// to what the upstream advertised, DATA relayed byte for byte, BDAT relayed
// as BDAT or converted to DATA, RSET to abort, QUIT. Must not: do I/O, log,
// or decide a TLS verdict (the engine verifies and tells us).
//
// Rules:
//  1. Each reply from the upstream answers the oldest command still
//     outstanding (a queue of expectations); a reply with none outstanding,
//     or a malformed one, is a broken upstream: failure + close.
//  2. Plaintext after the upstream's 220 to STARTTLS, before the handshake,
//     is an attack (CVE-2011-0411 in the other direction): failure + close.
//  3. A transaction that needs an extension the upstream lacks is answered
//     locally, never sent half-right: SMTPUTF8 -> 553 5.6.7, BODY=8BITMIME ->
//     554 5.6.3, a declared SIZE over the upstream's -> 552 5.3.4. DSN
//     parameters (RET, ENVID, NOTIFY, ORCPT) cannot be relayed to a non-DSN
//     upstream, and dsproxy, having no queue, cannot send the "relayed" DSN
//     RFC 3461 §4.1 then asks for: the transaction goes on without them, and
//     the log and the reply to the RCPT say so (a line of its own), never
//     silently.
//  4. Aborting inside message content closes the connection: the only way
//     to be sure the upstream never sees an end of data.
//
// How to drive it (the engine, per upstream connection):
//   client_session c(options);            // after connect(); c.on_connect() is implicit
//   feed every server_session upstream_* action to the matching call:
//     upstream_mail -> c.mail(), upstream_rcpt -> c.rcpt(), upstream_data -> c.begin_data(),
//     upstream_bdat -> c.bdat(), upstream_bytes -> c.bytes(), upstream_end_of_data -> c.end_of_data(),
//     upstream_abort -> c.abort();   and read: run(c.on_bytes({buf, n}))
//   run() carries out client actions in order: send -> write upstream;
//   start_tls -> handshake (SNI, verification), then c.on_tls_established()
//   or c.on_tls_failed(); result -> server.on_upstream_reply(stage, reply);
//   failure -> server.on_upstream_failed(stage, reason); close -> close the socket.
//   Peer closed -> c.on_closed(); deadline -> c.on_timeout().
#pragma once

#include "proxy/smtp/address.hpp"
#include "proxy/smtp/message_content.hpp"
#include "proxy/smtp/capabilities.hpp"
#include "proxy/smtp/esmtp_params.hpp"
#include "proxy/smtp/limits.hpp"
#include "proxy/smtp/reply_parser.hpp"
#include "proxy/smtp/session_types.hpp"

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dsproxy::smtp {

enum class upstream_tls { none, opportunistic, required };

// XCLIENT attributes (Postfix XCLIENT_README); sent only where the upstream lists them.
struct xclient_facts {
    std::string addr;
    std::string name;
    std::string helo;
    std::string proto;  // "SMTP" / "ESMTP"
};

struct client_options {
    std::string helo_name = "localhost";  // our fqdn
    upstream_tls starttls = upstream_tls::opportunistic;
    std::optional<xclient_facts> xclient;
    smtp_limits limits;
};

namespace client_actions {
struct send { std::string bytes; };
struct start_tls {};
struct result { upstream_stage stage; reply value; };          // -> server_session::on_upstream_reply
struct failure { upstream_stage stage; failure_kind kind; std::string reason; };  // -> server_session::on_upstream_failed
struct close_connection {};
struct log_note { std::string text; };  // "reason=...": one key=value phrase of a log line
}  // namespace client_actions

using client_action = std::variant<client_actions::send, client_actions::start_tls, client_actions::result,
                                   client_actions::failure, client_actions::close_connection,
                                   client_actions::log_note>;

enum class client_state {
    greeting,       // waiting for the banner, EHLO, STARTTLS's 220 or XCLIENT's 220
    tls_handshake,  // 220 to STARTTLS received; the engine is handshaking
    idle,           // set up, no transaction
    transaction,    // MAIL sent
    content,        // message bytes flowing (DATA after 354, or BDAT chunks)
    closed,
};

class client_session {
public:
    explicit client_session(client_options options);

    std::vector<client_action> on_bytes(std::string_view bytes);
    std::vector<client_action> on_tls_established();
    // `kind`: handshake or certificate; `why`: the engine's reason, for the log.
    std::vector<client_action> on_tls_failed(failure_kind kind = failure_kind::handshake, std::string_view why = {});
    std::vector<client_action> on_closed();
    std::vector<client_action> on_timeout();

    std::vector<client_action> mail(const path& reverse_path, const mail_parameters& params);
    std::vector<client_action> rcpt(const path& forward_path, const rcpt_parameters& params);
    std::vector<client_action> begin_data(data_mode mode);
    std::vector<client_action> bdat(std::uint64_t size, bool last);
    // By value: relayed DATA content is moved into the send action, not copied.
    std::vector<client_action> bytes(std::string content);
    std::vector<client_action> end_of_data();
    std::vector<client_action> abort();
    std::vector<client_action> quit();

    // The replies the machine can wait for; awaiting() is the next one due
    // (the engine picks that phase's timeout).
    enum class expect { banner, ehlo, helo, starttls, xclient, mail, rcpt, data, bdat_chunk, end_of_data, rset, quit };
    std::optional<expect> awaiting() const noexcept {
        return expected_.empty() ? std::nullopt : std::optional<expect>(expected_.front());
    }
    // What is awaited, for a log line: "the greeting", "the reply to EHLO", ...
    static std::string_view describe(expect e) noexcept;

    client_state state() const noexcept { return state_; }
    const capabilities& upstream_capabilities() const noexcept { return caps_; }
    bool tls_active() const noexcept { return tls_; }
    // True when a further transaction can use this connection.
    bool reusable() const noexcept { return state_ == client_state::idle && expected_.empty(); }
    // Why the connection failed, once it has (the failure action carries the
    // same, but only when a transaction waits; the probe sends none).
    const std::optional<upstream_failure>& failure() const noexcept { return failure_; }

private:

    std::vector<client_action> take();
    void send(std::string bytes);
    void expect_reply(expect e) { expected_.push_back(e); }
    void on_reply(const reply& r);
    void setup_reply(expect e, const reply& r);
    void after_greeting();
    void send_mail();
    void fail(failure_kind kind, std::string reason);
    void result(upstream_stage s, reply r);
    upstream_stage current_stage() const noexcept;
    void finish_chunk();

    client_options options_;
    client_state state_ = client_state::greeting;
    std::vector<client_action> out_;
    std::string input_;
    reply_parser parser_;
    std::deque<expect> expected_;
    capabilities caps_;
    bool tls_ = false;
    bool xclient_done_ = false;
    std::optional<std::pair<path, mail_parameters>> pending_mail_;
    // DSN parameters not relayed (rule 3): this transaction's RET/ENVID, not
    // yet said in a RCPT reply; and, per RCPT awaiting its reply, whether
    // its NOTIFY/ORCPT were.
    bool mail_dsn_dropped_ = false;
    std::deque<bool> rcpt_dsn_dropped_;
    // Content
    bool bdat_upstream_ = false;   // BDAT relayed as BDAT
    bool converting_ = false;      // BDAT relayed as DATA
    std::uint64_t chunk_remaining_ = 0;
    bool chunk_last_ = false;
    dot_stuffer stuffer_;
    std::optional<upstream_failure> failure_;
};

}  // namespace dsproxy::smtp
