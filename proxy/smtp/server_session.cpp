// server_session — events, the input loop, message content and upstream
// results (see server_session.hpp). The commands are in server_commands.cpp.
#include "proxy/smtp/server_session.hpp"

#include "proxy/smtp/received_header.hpp"
#include "proxy/log/value.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

namespace dsproxy::smtp {

std::string_view to_string(server_state s) noexcept {
    switch (s) {
    case server_state::pre_banner: return "pre-banner";
    case server_state::need_helo: return "need-helo";
    case server_state::ready: return "ready";
    case server_state::mail: return "mail";
    case server_state::rcpt: return "rcpt";
    case server_state::data: return "data";
    case server_state::bdat: return "bdat";
    case server_state::tls_handshake: return "tls-handshake";
    case server_state::closed: return "closed";
    }
    return "unknown";
}

server_session::server_session(server_options options, session_policy policy)
    : options_(std::move(options)), policy_(std::move(policy)), framer_(options_.limits.command_line_max) {
    if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
    if (!policy_.accepts_domain) policy_.accepts_domain = [](std::string_view) { return false; };
    if (!policy_.check_sender)
        policy_.check_sender = [](const path&, const std::optional<tls_facts>&) { return sender_verdict{}; };
}

bool server_session::wants_input() const noexcept {
    return !waiting_ && state_ != server_state::closed && state_ != server_state::tls_handshake;
}

std::vector<server_action> server_session::take() {
    std::vector<server_action> out;
    out.swap(out_);
    return out;
}

void server_session::send(const reply& r) { out_.emplace_back(actions::send_reply{r.to_wire()}); }
void server_session::send(int code, std::string_view text) { send(make_reply(code, text)); }
void server_session::note(std::string text) { out_.emplace_back(actions::log_note{std::move(text)}); }

void server_session::close() {
    if (state_ == server_state::closed) return;
    state_ = server_state::closed;
    waiting_.reset();
    input_.clear();
    out_.emplace_back(actions::close_connection{});
}

void server_session::bad_command(int code, std::string_view text) {
    send(code, text);
    note("reason=refused command " + std::to_string(bad_commands_ + 1) + "/" +
         std::to_string(options_.limits.bad_commands_max) + ": " + std::to_string(code) + " " + std::string(text));
    if (++bad_commands_ >= options_.limits.bad_commands_max) {
        note("reason=too many bad commands (" + std::to_string(bad_commands_) + ")");
        abort_upstream();
        send(421, "4.7.0 " + options_.fqdn + " Error: too many errors");
        close();
    }
}

// docs/design.md §2: the replies that follow from one refused MAIL count
// once, with it. A pipelining client (RFC 2920) has sent its RCPTs, DATA or
// BDAT behind the MAIL before reading the refusal; each gets its 503, but
// they are one mistake, not a hundred (as Postfix's smtpd_hard_error_limit).
// At most recipients_max + 1 such replies (a full transaction's RCPTs and
// its DATA) pass uncounted, so a client cannot send 503-bound commands for
// ever.
bool server_session::follows_refused_mail() {
    if (refused_mail_followers_ == 0) return false;
    if (refused_mail_followers_-- == options_.limits.recipients_max + 1)
        note("reason=commands pipelined behind a refused MAIL answered 503, not counted as errors");
    return true;
}

void server_session::abort_upstream() {
    if (txn_ && txn_->upstream_touched && !content_aborted_) out_.emplace_back(actions::upstream_abort{});
    if (txn_) txn_->upstream_touched = false;
    content_aborted_ = true;
}

void server_session::reset_transaction() {
    txn_.reset();
    data_.reset();
    content_aborted_ = false;
    chunk_error_.reset();
    chunk_scanner_ = {};
}

std::vector<server_action> server_session::start() {
    if (state_ == server_state::pre_banner) {
        state_ = server_state::need_helo;
        send(220, options_.fqdn + " ESMTP dsproxy");
    }
    return take();
}

std::vector<server_action> server_session::on_bytes(std::string_view bytes) {
    switch (state_) {
    case server_state::closed: return take();
    case server_state::pre_banner:
        // Early talker: an SMTP client must wait for the banner (RFC 5321 §4.3.1).
        note("reason=client sent data before the banner");
        send(554, "5.5.1 " + options_.fqdn + " Error: SMTP protocol synchronization");
        close();
        return take();
    case server_state::tls_handshake:
        note("reason=" + std::to_string(bytes.size()) + " plaintext bytes during the TLS handshake dropped");
        return take();
    default: break;
    }
    if (state_ == server_state::data && input_.empty() && !waiting_) {
        // Message content with nothing queued before it: straight from the
        // read, without a copy into input_ (what is left, e.g. commands
        // pipelined after the final dot, goes the usual way).
        bytes.remove_prefix(process_data_from(bytes));
    }
    input_.append(bytes);
    process();
    if (state_ != server_state::closed && input_.size() > options_.limits.pending_input_max) {
        note("reason=pipelined input over " + std::to_string(options_.limits.pending_input_max) + " bytes");
        abort_upstream();
        send(421, "4.7.0 " + options_.fqdn + " Error: too much pipelined input");
        close();
    }
    return take();
}

void server_session::process() {
    while (!waiting_) {
        if (state_ == server_state::bdat && chunk_remaining_ == 0) {  // "BDAT 0 [LAST]"
            finish_chunk();
            continue;
        }
        if (input_.empty()) return;
        switch (state_) {
        case server_state::data: process_data(); continue;
        case server_state::bdat: process_bdat(); continue;
        case server_state::need_helo:
        case server_state::ready:
        case server_state::mail:
        case server_state::rcpt: break;
        default: return;
        }
        const frame f = framer_.next(input_);
        std::string line(f.text);
        input_.erase(0, f.consumed);
        switch (f.status) {
        case frame_status::incomplete: return;
        case frame_status::too_long: bad_command(500, "5.5.2 Error: line too long"); break;
        case frame_status::bare_lf: bad_command(500, "5.5.2 Error: bare <LF> received"); break;
        case frame_status::line: dispatch(line); break;
        }
    }
}

std::string server_session::received_header() const {
    received_info info;
    info.client_helo = helo_;
    info.client_hostname = options_.client_hostname;
    info.client_address = options_.client_address;
    info.listener_fqdn = options_.fqdn;
    info.session_id = options_.session_id;
    info.esmtp = esmtp_;
    info.smtputf8 = txn_ && txn_->params.smtputf8;
    info.tls = tls_;
    info.domain_secured = txn_ && txn_->domain_secured;
    if (txn_ && txn_->recipients == 1) info.single_recipient = txn_->first_recipient;
    info.when = options_.clock();
    return build_received_header(info);
}

void server_session::begin_content() {
    txn_->upstream_data_started = true;
    markers_.reset();
    if (options_.rename_trust_markers) markers_.emplace(options_.fqdn);
    if (!txn_->bdat_mode) {
        send(354, "End data with <CR><LF>.<CR><LF>");
        state_ = server_state::data;
        data_.emplace(options_.limits, options_.data_bare_newline);
        out_.emplace_back(actions::upstream_bytes{received_header()});
        return;
    }
    const std::string header = received_header();
    out_.emplace_back(actions::upstream_bdat{chunk_size_ + header.size(), chunk_last_});
    out_.emplace_back(actions::upstream_bytes{header});
    state_ = server_state::bdat;
}

namespace {

// Whether any octet has its high bit set. This scan runs over all message
// content sent without BODY=8BITMIME (until the first hit), so it looks at
// 32 octets per step rather than one.
bool has_8bit(std::string_view s) noexcept {
    constexpr std::uint64_t high = 0x8080808080808080ull;
    const char* p = s.data();
    std::size_t n = s.size();
    for (; n >= 32; p += 32, n -= 32) {
        std::uint64_t w[4];
        std::memcpy(w, p, sizeof w);
        if ((w[0] | w[1] | w[2] | w[3]) & high) return true;
    }
    for (; n > 0; ++p, --n)
        if (static_cast<unsigned char>(*p) >= 0x80) return true;
    return false;
}

}  // namespace

// RFC 6152: 8-bit octets need BODY=8BITMIME. Like Postfix (strict_8bitmime
// off) and Exim, dsproxy relays such a message unchanged rather than refuse
// mail that every current MTA accepts, and says so once in the log.
void server_session::note_undeclared_8bit(std::string_view content) {
    if (!txn_ || txn_->undeclared_8bit || txn_->params.body == body_type::eight_bit_mime ||
        txn_->params.body == body_type::binary_mime)
        return;
    if (!has_8bit(content)) return;
    txn_->undeclared_8bit = true;
    note("reason=8-bit message data without BODY=8BITMIME, relayed unchanged");
}

void server_session::process_data() { input_.erase(0, process_data_from(input_)); }

std::size_t server_session::process_data_from(std::string_view in) {
    std::string relay;
    const auto r = data_->feed(in, relay);
    note_undeclared_8bit(in.substr(0, r.consumed));
    if (markers_) {
        std::string filtered;
        markers_->feed(relay, filtered);
        if (r.end) markers_->finish(filtered);
        relay.swap(filtered);
    }
    if (!relay.empty() && !content_aborted_ && !txn_->refusal)
        out_.emplace_back(actions::upstream_bytes{std::move(relay)});
    if (data_->refused() && !content_aborted_) {
        note("reason=message refused while streaming, upstream transaction aborted");
        abort_upstream();
    }
    if (r.end) finish_data();
    return r.consumed;
}

void server_session::finish_data() {
    const auto f = data_->findings();
    state_ = server_state::ready;
    if (data_->refused()) {
        if (f.too_big) {
            note("reason=message over the size limit of " + std::to_string(options_.limits.message_size_max));
            send(552, "5.3.4 Error: message size exceeds fixed limit");
        } else if (f.line_too_long) {
            note_line_too_long();
            send(line_too_long_reply());
        } else {
            note(std::string("reason=bare ") + (f.bare_lf ? "LF" : "CR") + " in message data (SMTP smuggling)");
            send(554, "5.6.0 Error: bare <LF> or <CR> in message data is not allowed");
        }
        reset_transaction();
        return;
    }
    if (f.bare_lf || f.bare_cr) note("reason=bare newline in message data normalised to CRLF");
    if (txn_->refusal) {
        send(*txn_->refusal);
        reset_transaction();
        return;
    }
    out_.emplace_back(actions::upstream_end_of_data{});
    waiting_ = upstream_stage::end_of_data;
}

// DATA and BDAT content share the text line rule (newline_scanner::line_over)
// and this reply: 552 5.6.0, DATA after its end, BDAT after the chunk.
reply server_session::line_too_long_reply() const {
    return make_reply(552, "5.6.0 Error: message line longer than " + std::to_string(options_.limits.text_line_max) +
                               " octets");
}

void server_session::note_line_too_long() {
    note("reason=message line longer than " + std::to_string(options_.limits.text_line_max) + " octets");
}

void server_session::process_bdat() {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_remaining_, input_.size()));
    const std::string_view slice(input_.data(), n);
    note_undeclared_8bit(slice);
    chunk_scanner_.feed(slice);
    if (chunk_last_ && n == chunk_remaining_) chunk_scanner_.finish();
    check_chunk_content();
    std::string bytes(slice);
    if (markers_) {  // same length out as in, by the end of the chunk
        std::string filtered;
        markers_->feed(bytes, filtered);
        if (n == chunk_remaining_) chunk_last_ ? markers_->finish(filtered) : markers_->flush(filtered);
        bytes.swap(filtered);
    }
    if (txn_ && !chunk_error_ && !txn_->refusal && !content_aborted_ && !bytes.empty())
        out_.emplace_back(actions::upstream_bytes{std::move(bytes)});
    input_.erase(0, n);
    chunk_remaining_ -= n;
    if (chunk_remaining_ == 0) finish_chunk();
}

// BDAT content gets the DATA smuggling policy: under `reject` a bare LF/CR
// refuses the message before its last byte reaches the upstream. Under
// `normalize` the bytes pass unchanged while BDAT frames them by length, and
// client_session's dot_stuffer rewrites them if the upstream needs DATA.
// It gets DATA's text line limit too (RFC 3030 sets none, but a BDAT message
// may be relayed as DATA, and the two commands must not differ): the chunk
// with the long line is not relayed, and it and the rest get the 552.
void server_session::check_chunk_content() {
    if (!txn_ || txn_->refusal) return;
    const bool bare = chunk_scanner_.bare_lf() || chunk_scanner_.bare_cr();
    if (bare && options_.data_bare_newline == bare_newline_policy::reject) {
        note("reason=bare newline in BDAT content (SMTP smuggling)");
        abort_upstream();
        txn_->refusal = make_reply(554, "5.6.0 Error: bare <LF> or <CR> in message data is not allowed");
    } else if (chunk_scanner_.line_over(options_.limits.text_line_max)) {
        note_line_too_long();
        abort_upstream();
        txn_->refusal = line_too_long_reply();
    }
}

void server_session::finish_chunk() {
    if (chunk_last_) {
        chunk_scanner_.finish();
        check_chunk_content();
    }
    std::optional<reply> error = chunk_error_ ? chunk_error_ : (txn_ ? txn_->refusal : std::nullopt);
    chunk_error_.reset();
    state_ = txn_ ? server_state::rcpt : (helo_.empty() ? server_state::need_helo : server_state::ready);
    if (std::exchange(chunk_is_bad_command_, false) && error) {
        // A BDAT without MAIL counts like any refused command (it never did).
        bad_command(error->code, error->lines.empty() ? std::string_view{} : std::string_view(error->lines.front()));
        return;
    }
    if (error) {
        send(*error);
        if (chunk_last_ && txn_) {
            abort_upstream();
            reset_transaction();
            state_ = server_state::ready;
        }
        return;
    }
    waiting_ = chunk_last_ ? upstream_stage::end_of_data : upstream_stage::bdat_chunk;
}

std::vector<server_action> server_session::on_tls_established(tls_facts facts) {
    if (state_ == server_state::pre_banner) {  // implicit TLS: handshake before the banner
        tls_ = std::move(facts);
        return take();
    }
    if (state_ != server_state::tls_handshake) {
        note("reason=unexpected TLS event in state " + std::string(to_string(state_)));
        return take();
    }
    // RFC 3207 §4.2: forget everything learned before TLS.
    tls_ = std::move(facts);
    helo_.clear();
    esmtp_ = false;
    reset_transaction();
    input_.clear();
    framer_.reset();
    state_ = server_state::need_helo;
    return take();
}

std::vector<server_action> server_session::on_tls_failed() {
    note("reason=TLS handshake failed");
    close();
    return take();
}

std::vector<server_action> server_session::on_upstream_reply(upstream_stage stage, const reply& r) {
    if (state_ == server_state::closed) return take();
    if (!waiting_ || *waiting_ != stage || !txn_) {
        note("reason=unexpected upstream reply for " + std::string(to_string(stage)) + " ignored");
        return take();
    }
    waiting_.reset();
    switch (stage) {
    case upstream_stage::mail:
        if (r.positive() && txn_->pending_rcpt) {
            txn_->upstream_open = true;
            out_.emplace_back(actions::upstream_rcpt{txn_->pending_rcpt->first, txn_->pending_rcpt->second});
            waiting_ = upstream_stage::rcpt;
        } else {
            if (!options_.mail_refusal_per_recipient) txn_->refusal = r;
            txn_->upstream_touched = false;  // the upstream has no transaction to abort
            txn_->pending_rcpt.reset();
            state_ = server_state::rcpt;
            send(r);
        }
        break;
    case upstream_stage::rcpt:
        if (r.positive()) {
            if (++txn_->recipients == 1 && txn_->pending_rcpt)
                txn_->first_recipient = txn_->pending_rcpt->first.to_wire();
        }
        txn_->pending_rcpt.reset();
        state_ = server_state::rcpt;
        send(r);
        break;
    case upstream_stage::data:
        if (r.code == 354) {
            begin_content();
        } else if (txn_->bdat_mode) {
            txn_->refusal = r;
            state_ = server_state::bdat;  // read the chunk, then answer with the refusal
        } else {
            send(r);
        }
        break;
    case upstream_stage::bdat_chunk:
        if (!r.positive()) txn_->refusal = r;
        send(r);
        break;
    case upstream_stage::end_of_data:
        send(r);  // end-to-end: the upstream's own final reply
        reset_transaction();
        state_ = server_state::ready;
        break;
    }
    process();
    return take();
}

std::vector<server_action> server_session::on_upstream_failed(upstream_stage stage, std::string_view reason) {
    if (state_ == server_state::closed) return take();
    note("reason=upstream failed at " + std::string(to_string(stage)) + ": " + log::value(reason));
    const reply failure = stage == upstream_stage::mail
                              ? make_reply(451, "4.4.1 Upstream server not available, try again later")
                              : make_reply(451, "4.4.2 Upstream connection lost, try again later");
    if (!txn_) return take();
    txn_->upstream_touched = false;  // nothing left upstream to abort
    if (!txn_->refusal) txn_->refusal = failure;
    const bool per_recipient =
        options_.mail_refusal_per_recipient && stage == upstream_stage::mail && !txn_->upstream_open;
    if (waiting_) {
        const auto awaited = *waiting_;
        waiting_.reset();
        switch (awaited) {
        case upstream_stage::mail:
        case upstream_stage::rcpt:
            txn_->pending_rcpt.reset();
            state_ = server_state::rcpt;
            send(*txn_->refusal);
            if (per_recipient) txn_->refusal.reset();  // the next RCPT tries again
            break;
        case upstream_stage::data:
            if (txn_->bdat_mode) state_ = server_state::bdat;  // read the chunk first
            else send(*txn_->refusal);
            break;
        case upstream_stage::bdat_chunk: send(*txn_->refusal); break;
        case upstream_stage::end_of_data:
            send(*txn_->refusal);
            reset_transaction();
            state_ = server_state::ready;
            break;
        }
        process();
    }
    return take();
}

std::vector<server_action> server_session::on_timeout() {
    if (state_ == server_state::closed) return take();
    note("reason=timeout in state " + std::string(to_string(state_)));
    if (state_ == server_state::tls_handshake) {
        // The client is speaking TLS now: a plaintext 421 would be read as a
        // broken record. Just close (found by fuzzing).
        close();
        return take();
    }
    abort_upstream();
    send(421, "4.4.2 " + options_.fqdn + " Error: timeout exceeded");
    close();
    return take();
}

std::vector<server_action> server_session::on_client_closed() {
    if (state_ == server_state::closed) return take();
    if (txn_ && txn_->upstream_touched) note("reason=client disconnected mid-transaction, upstream aborted");
    abort_upstream();
    state_ = server_state::closed;
    waiting_.reset();
    out_.emplace_back(actions::close_connection{});
    return take();
}

}  // namespace dsproxy::smtp
