// server_commands — the command table of server_session and one handler per
// verb. Checking (may this verb run now?) is the table's job and happens in
// dispatch(); the handlers do the work and the per-command checks (syntax,
// limits, relay control), after OpenSMTPD's smtp_check_* / smtp_proceed_*.
//
// Reply codes: 500 5.5.2 unrecognised or malformed line; 501 5.5.4 argument
// syntax; 501 5.1.7 / 5.1.3 bad sender / recipient address; 502 5.5.1 not
// implemented; 503 5.5.1 bad sequence; 504 5.5.4 unsupported parameter value
// (RFC 5321 §4.2.4); 555 5.5.4 unknown MAIL/RCPT parameter; 550 5.7.1 relay
// denied; 452 4.5.3 too many recipients; 552 5.3.4 too big; 553 5.6.7 UTF-8
// address without SMTPUTF8.
#include "proxy/smtp/server_session.hpp"

#include "matching/idn.hpp"
#include "proxy/log/value.hpp"

#include <algorithm>
#include <array>

namespace dsproxy::smtp {

namespace {

constexpr unsigned bit(server_state s) noexcept { return 1u << static_cast<unsigned>(s); }
constexpr unsigned greeted = bit(server_state::ready) | bit(server_state::mail) | bit(server_state::rcpt);
constexpr unsigned any_state = greeted | bit(server_state::need_helo);
constexpr unsigned in_transaction = bit(server_state::mail) | bit(server_state::rcpt);

}  // namespace

using S = server_session;
const S::command_row S::command_table[15] = {
    {verb::ehlo, any_state, nullptr, &S::cmd_ehlo},
    {verb::helo, any_state, nullptr, &S::cmd_helo},
    {verb::mail, bit(server_state::ready), "5.5.1 Error: nested MAIL command", &S::cmd_mail},
    {verb::rcpt, in_transaction, "5.5.1 Error: need MAIL command", &S::cmd_rcpt},
    {verb::data, in_transaction, "5.5.1 Error: need MAIL command", &S::cmd_data},
    {verb::bdat, any_state, nullptr, &S::cmd_bdat},  // must read its chunk even when refused
    {verb::rset, any_state, nullptr, &S::cmd_rset},
    {verb::noop, any_state, nullptr, &S::cmd_noop},
    {verb::quit, any_state, nullptr, &S::cmd_quit},
    {verb::vrfy, any_state, nullptr, &S::cmd_vrfy},
    {verb::expn, any_state, nullptr, &S::cmd_expn},
    {verb::help, any_state, nullptr, &S::cmd_help},
    {verb::starttls, bit(server_state::need_helo) | bit(server_state::ready),
     "5.5.1 Error: MAIL transaction in progress", &S::cmd_starttls},
    {verb::auth, any_state, nullptr, &S::cmd_auth},
    {verb::http, any_state, nullptr, &S::cmd_http},
};

namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = text[i];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
        if (c != prefix[i]) return false;
    }
    return true;
}

// "FROM:" / "TO:" then optional spaces (common in the wild, tolerated as Postfix does).
std::optional<std::string_view> after_keyword(std::string_view args, std::string_view keyword) {
    if (!starts_with_nocase(args, keyword)) return std::nullopt;
    args.remove_prefix(keyword.size());
    while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
    return args;
}

}  // namespace

const server_session::command_row* server_session::find_row(verb id) noexcept {
    for (const auto& row : command_table)
        if (row.id == id) return &row;
    return nullptr;
}

void server_session::reply_param_error(const param_result& r, std::string_view which) {
    if (r.error == param_error::unknown)
        bad_command(555, "5.5.4 Error: unsupported " + std::string(which) + " parameter " + r.keyword);
    else
        bad_command(501, "5.5.4 Error: bad " + std::string(which) + " parameter " + r.keyword);
}

void server_session::dispatch(std::string_view line) {
    const command c = parse_command(line);
    // A MAIL that leaves the session ready was refused: what the client
    // pipelined behind it follows from that refusal (follows_refused_mail).
    const bool opens_transaction = c.id == verb::mail && state_ == server_state::ready;
    if (c.id != verb::rcpt && c.id != verb::data && c.id != verb::bdat && c.id != verb::noop)
        refused_mail_followers_ = 0;
    run_command(c);
    if (opens_transaction && state_ == server_state::ready)
        refused_mail_followers_ = options_.limits.recipients_max + 1;
    else if (c.id == verb::data)
        refused_mail_followers_ = 0;  // DATA ends a pipelined group (RFC 2920 §3.1)
}

void server_session::run_command(const command& c) {
    if (c.error == command_error::bad_characters) return bad_command(500, "5.5.2 Error: bad characters in command");
    const command_row* row = find_row(c.id);
    if (row == nullptr) return bad_command(500, "5.5.2 Error: command not recognized");
    if (c.id != verb::bdat && c.id != verb::http) {
        if (c.error == command_error::unexpected_argument)
            return bad_command(501, "5.5.4 Syntax: " + std::string(to_string(c.id)) + " takes no arguments");
        if (c.error == command_error::missing_argument)
            return bad_command(501, "5.5.4 Syntax: " + std::string(to_string(c.id)) + " needs an argument");
    }
    if ((row->allowed & bit(state_)) == 0) {
        if (state_ == server_state::need_helo) return bad_command(503, "5.5.1 Error: send HELO/EHLO first");
        if (follows_refused_mail()) return send(503, row->out_of_sequence);
        return bad_command(503, row->out_of_sequence);
    }
    (this->*(row->handle))(c);
}

void server_session::cmd_ehlo(const command& c) {
    if (std::any_of(c.args.begin(), c.args.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; }))
        return bad_command(501, "5.5.4 Syntax: EHLO hostname");
    if (txn_) abort_upstream();  // RFC 5321 §4.1.4: EHLO resets the transaction
    reset_transaction();
    helo_ = std::string(c.args);
    esmtp_ = true;
    state_ = server_state::ready;
    reply r;
    r.code = 250;
    r.lines = {options_.fqdn, "PIPELINING", "SIZE " + std::to_string(options_.limits.message_size_max), "8BITMIME",
               "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING"};
    if (options_.advertise_dsn) r.lines.emplace_back("DSN");
    if (options_.starttls_offered && !tls_) r.lines.emplace_back("STARTTLS");
    send(r);
}

void server_session::cmd_helo(const command& c) {
    if (std::any_of(c.args.begin(), c.args.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; }))
        return bad_command(501, "5.5.4 Syntax: HELO hostname");
    if (txn_) abort_upstream();
    reset_transaction();
    helo_ = std::string(c.args);
    esmtp_ = false;
    state_ = server_state::ready;
    send(250, options_.fqdn);
}

void server_session::cmd_mail(const command& c) {
    const auto rest = after_keyword(c.args, "FROM:");
    if (!rest) return bad_command(501, "5.5.4 Syntax: MAIL FROM:<address>");
    auto p = parse_path(*rest, path_kind::reverse);
    if (p.error != path_error::none) return bad_command(501, "5.1.7 Error: bad sender address syntax");
    mail_parameters params;
    if (!esmtp_ && !p.rest.empty()) return bad_command(555, "5.5.4 Error: parameters need EHLO");
    if (const auto r = parse_mail_parameters(p.rest, params); r.error != param_error::none)
        return reply_param_error(r, "MAIL FROM");
    if (params.body == body_type::binary_mime) return bad_command(504, "5.5.4 Error: BODY=BINARYMIME not supported");
    if (params.size && *params.size > options_.limits.message_size_max) {
        note("reason=declared SIZE=" + std::to_string(*params.size) + " over the limit of " +
             std::to_string(options_.limits.message_size_max));
        return send(552, "5.3.4 Error: message size exceeds fixed limit");
    }
    if (p.value.box.non_ascii && !params.smtputf8) {
        note("reason=non-ASCII sender address without SMTPUTF8");
        return send(553, "5.6.7 Error: non-ASCII sender address needs SMTPUTF8");
    }
    const sender_verdict verdict = policy_.check_sender(p.value, tls_);
    if (verdict.refusal) return send(*verdict.refusal);
    if (policy_.admit_message) {
        if (auto refusal = policy_.admit_message()) {
            send(*refusal);
            if (refusal->code == 421) close();  // RFC 5321 §3.8: 421 closes the transmission channel
            return;
        }
    }
    reset_transaction();
    txn_.emplace();
    txn_->reverse_path = std::move(p.value);
    txn_->params = std::move(params);
    txn_->domain_secured = verdict.domain_secured;
    state_ = server_state::mail;
    send(250, "2.1.0 Ok");
}

void server_session::cmd_rcpt(const command& c) {
    const auto rest = after_keyword(c.args, "TO:");
    if (!rest) return bad_command(501, "5.5.4 Syntax: RCPT TO:<address>");
    auto p = parse_path(*rest, path_kind::forward, 256);
    if (p.error != path_error::none) return bad_command(501, "5.1.3 Error: bad recipient address syntax");
    rcpt_parameters params;
    if (!esmtp_ && !p.rest.empty()) return bad_command(555, "5.5.4 Error: parameters need EHLO");
    if (const auto r = parse_rcpt_parameters(p.rest, params); r.error != param_error::none)
        return reply_param_error(r, "RCPT TO");
    if (p.value.box.non_ascii && !txn_->params.smtputf8) {
        note("reason=non-ASCII recipient address without SMTPUTF8");
        return send(553, "5.6.7 Error: non-ASCII recipient address needs SMTPUTF8");
    }
    if (txn_->recipients >= options_.limits.recipients_max) {
        if (!txn_->recipient_limit_noted)
            note("reason=recipient limit of " + std::to_string(options_.limits.recipients_max) +
                 " reached; further RCPTs get 452");
        txn_->recipient_limit_noted = true;
        return send(452, "4.5.3 Error: too many recipients");
    }
    relay_check_and_send_rcpt(std::move(p.value), std::move(params));
}

// docs/design.md §10: only accepted domains, and the domain is the one after the last
// unquoted "@" with any source route already stripped by the parser. Local
// parts with "%", "!" or "@" ask the next hop to route further; refused as
// Postfix does with allow_untrusted_routing = no, so an accepted domain can
// never be used to reach another one.
void server_session::relay_check_and_send_rcpt(path p, rcpt_parameters params) {
    const mailbox& box = p.box;
    if (!box.domain.empty()) {
        if (box.address_literal) return bad_command(550, "5.7.1 Error: relay access denied");
        // A domain that is ours only after UTS #46 mapping (`user@ａccepted.test`,
        // `user@accepted。test`) is refused: it would be passed on as written,
        // and the next hop may read it as another domain.
        const auto domain = matching::reference_name::parse(box.domain);
        if (!domain || !matching::written_in_idna2008_form(box.domain))
            return bad_command(501, "5.1.3 Error: bad recipient domain");
        if (!policy_.accepts_domain(domain->text())) {
            note("reason=relay denied for domain " + log::value(domain->text()));
            return bad_command(550, "5.7.1 Error: relay access denied");
        }
        if (has_routing_operators(box)) {
            note("reason=sender-specified routing in " + log::value(box.address()));
            return bad_command(550, "5.7.1 Error: relay access denied (sender-specified routing)");
        }
    }
    if (txn_->refusal) {
        state_ = server_state::rcpt;
        return send(*txn_->refusal);
    }
    txn_->pending_rcpt.emplace(p, params);
    if (!txn_->upstream_open) {
        txn_->upstream_touched = true;
        out_.emplace_back(actions::upstream_mail{txn_->reverse_path, txn_->params, p});
        waiting_ = upstream_stage::mail;
        return;
    }
    out_.emplace_back(actions::upstream_rcpt{std::move(p), std::move(params)});
    waiting_ = upstream_stage::rcpt;
}

void server_session::cmd_data(const command&) {
    if (txn_->bdat_mode) return bad_command(503, "5.5.1 Error: DATA after BDAT");
    if (txn_->recipients == 0) {
        if (txn_->refusal) return send(*txn_->refusal);
        return send(554, "5.5.1 Error: no valid recipients");
    }
    if (txn_->refusal) return send(*txn_->refusal);
    out_.emplace_back(actions::upstream_data{data_mode::data});
    waiting_ = upstream_stage::data;
}

void server_session::cmd_bdat(const command& c) {
    // RFC 3030 §2: "BDAT" SP chunk-size [SP "LAST"]. Without a size we cannot
    // tell commands from content: close rather than guess (smuggling).
    std::string_view a = c.args;
    std::size_t digits = 0;
    std::uint64_t size = 0;
    while (digits < a.size() && a[digits] >= '0' && a[digits] <= '9' && digits < 20) {
        const auto d = static_cast<std::uint64_t>(a[digits] - '0');
        if (size > (UINT64_MAX - d) / 10) break;
        size = size * 10 + d;
        ++digits;
    }
    std::string_view tail = a.substr(digits);
    bool last = false;
    if (starts_with_nocase(tail, " LAST")) {
        last = true;
        tail.remove_prefix(5);
    }
    if (digits == 0 || !tail.empty()) {
        send(501, "5.5.4 Syntax: BDAT chunk-size [LAST]");
        note("reason=malformed BDAT, closing: cannot find the end of the chunk");
        abort_upstream();
        return close();
    }
    chunk_size_ = size;
    chunk_remaining_ = size;
    chunk_last_ = last;
    chunk_error_.reset();
    state_ = server_state::bdat;
    if (!txn_) {
        // Answered (and counted towards bad_commands_max, unless it follows
        // a refused MAIL) once the chunk is read: its bytes are not commands.
        chunk_is_bad_command_ = !follows_refused_mail();
        if (last) refused_mail_followers_ = 0;  // BDAT LAST ends a pipelined group
        chunk_error_ = helo_.empty() ? make_reply(503, "5.5.1 Error: send HELO/EHLO first")
                                     : make_reply(503, "5.5.1 Error: need MAIL command");
        return;
    }
    if (txn_->recipients == 0) {
        chunk_error_ = txn_->refusal ? *txn_->refusal : make_reply(554, "5.5.1 Error: no valid recipients");
        return;
    }
    if (txn_->refusal) return;  // answered after the chunk is read
    if (txn_->upstream_data_started && !txn_->bdat_mode) return;  // cannot happen: DATA reads to its end
    if (txn_->bdat_total + size > options_.limits.message_size_max || txn_->bdat_total + size < size) {
        note("reason=message over the size limit of " + std::to_string(options_.limits.message_size_max));
        abort_upstream();
        txn_->refusal = make_reply(552, "5.3.4 Error: message size exceeds fixed limit");
        return;
    }
    txn_->bdat_total += size;
    if (!txn_->bdat_mode) {
        txn_->bdat_mode = true;
        out_.emplace_back(actions::upstream_data{data_mode::bdat});
        waiting_ = upstream_stage::data;  // begin_content() follows the 354
        return;
    }
    out_.emplace_back(actions::upstream_bdat{size, last});
}

void server_session::cmd_rset(const command&) {
    if (txn_) abort_upstream();
    reset_transaction();
    if (state_ != server_state::need_helo) state_ = server_state::ready;
    send(250, "2.0.0 Ok");
}

void server_session::cmd_noop(const command&) { send(250, "2.0.0 Ok"); }

void server_session::cmd_quit(const command&) {
    if (txn_) abort_upstream();
    send(221, "2.0.0 Bye");
    close();
}

void server_session::cmd_vrfy(const command&) {
    send(252, "2.0.0 Cannot verify the user; send mail and delivery will be attempted");
}

void server_session::cmd_expn(const command&) { send(502, "5.5.1 Error: command not implemented"); }

void server_session::cmd_help(const command&) { send(214, "2.0.0 See RFC 5321"); }

void server_session::cmd_starttls(const command&) {
    if (tls_) return bad_command(554, "5.5.1 Error: TLS already active");
    if (!options_.starttls_offered) return bad_command(502, "5.5.1 Error: command not implemented");
    send(220, "2.0.0 Ready to start TLS");
    // CVE-2011-0411: whatever was pipelined after STARTTLS is plaintext an
    // attacker may have injected; it must never run inside the TLS session.
    if (!input_.empty()) {
        note("reason=" + std::to_string(input_.size()) + " bytes pipelined after STARTTLS dropped");
        input_.clear();
    }
    framer_.reset();
    state_ = server_state::tls_handshake;
    out_.emplace_back(actions::start_tls{});
}

void server_session::cmd_auth(const command&) { send(502, "5.5.1 Error: authentication not supported"); }

void server_session::cmd_http(const command&) {
    note("reason=HTTP request on the SMTP port");
    abort_upstream();
    send(221, "2.7.0 Error: this is an SMTP server, not an HTTP one");
    close();
}

}  // namespace dsproxy::smtp
