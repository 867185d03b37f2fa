// client_session — see client_session.hpp.
#include "proxy/smtp/client_session.hpp"

#include <algorithm>

namespace dsproxy::smtp {

namespace ca = client_actions;

namespace {

// An accepted RCPT whose DSN request (its NOTIFY/ORCPT, or the MAIL's
// RET/ENVID) could not be relayed (rule 3): the upstream's reply and a line
// that says so, with the reply's enhanced code.
reply with_dsn_not_relayed(reply r) {
    std::string line = r.status ? r.status->to_string() + " " : std::string();
    line += "DSN request not relayed: the next hop does not support DSN (RFC 3461)";
    r.lines.push_back(std::move(line));
    return r;
}

}  // namespace

client_session::client_session(client_options options)
    : options_(std::move(options)), parser_(options_.limits) {
    expect_reply(expect::banner);
}

std::vector<client_action> client_session::take() {
    std::vector<client_action> out;
    out.swap(out_);
    return out;
}

void client_session::send(std::string bytes) { out_.emplace_back(ca::send{std::move(bytes)}); }

void client_session::result(upstream_stage s, reply r) { out_.emplace_back(ca::result{s, std::move(r)}); }

upstream_stage client_session::current_stage() const noexcept {
    for (const auto e : expected_) {
        switch (e) {
        case expect::rcpt: return upstream_stage::rcpt;
        case expect::data: return upstream_stage::data;
        case expect::bdat_chunk: return upstream_stage::bdat_chunk;
        case expect::end_of_data: return upstream_stage::end_of_data;
        default: break;
        }
    }
    if (state_ == client_state::content) return upstream_stage::end_of_data;
    if (state_ == client_state::transaction && !pending_mail_) {
        for (const auto e : expected_)
            if (e == expect::mail) return upstream_stage::mail;
        return upstream_stage::rcpt;
    }
    return upstream_stage::mail;
}

// Everything the server side waits for is answered with one failure; the
// connection is then unusable.
void client_session::fail(failure_kind kind, std::string reason) {
    if (state_ == client_state::closed) return;
    failure_ = upstream_failure{kind, reason};
    bool someone_waits = pending_mail_.has_value() || state_ == client_state::transaction ||
                         state_ == client_state::content;
    for (const auto e : expected_)
        someone_waits |= e == expect::mail || e == expect::rcpt || e == expect::data || e == expect::bdat_chunk ||
                         e == expect::end_of_data;
    if (someone_waits) out_.emplace_back(ca::failure{current_stage(), kind, reason});
    out_.emplace_back(ca::log_note{"reason=" + reason});
    out_.emplace_back(ca::close_connection{});
    state_ = client_state::closed;
    expected_.clear();
    pending_mail_.reset();
    input_.clear();
}

std::vector<client_action> client_session::on_bytes(std::string_view bytes) {
    if (state_ == client_state::closed) return take();
    if (state_ == client_state::tls_handshake) {
        fail(failure_kind::starttls_refused, "upstream sent plaintext after its 220 to STARTTLS");
        return take();
    }
    input_.append(bytes);
    while (!input_.empty() && state_ != client_state::closed) {
        const auto p = parser_.next(input_);
        input_.erase(0, p.consumed);
        if (p.state == reply_parse::status::incomplete) break;
        if (p.state == reply_parse::status::failed) {
            fail(failure_kind::protocol, "malformed upstream reply: " + std::string(to_string(p.error)));
            break;
        }
        on_reply(p.value);
        if (state_ == client_state::tls_handshake) {
            // A reply pre-staged behind the 220 would be read as if it came
            // through TLS: refuse the connection instead.
            if (!input_.empty()) fail(failure_kind::starttls_refused, "upstream sent plaintext after its 220 to STARTTLS");
            else out_.emplace_back(ca::start_tls{});
            break;
        }
    }
    if (input_.size() > options_.limits.pending_input_max) fail(failure_kind::protocol, "upstream sent too much unsolicited data");
    return take();
}

void client_session::on_reply(const reply& r) {
    if (expected_.empty()) return fail(failure_kind::protocol, "unsolicited upstream reply " + std::to_string(r.code));
    const expect e = expected_.front();
    expected_.pop_front();
    switch (e) {
    case expect::banner:
    case expect::ehlo:
    case expect::helo:
    case expect::starttls:
    case expect::xclient: return setup_reply(e, r);
    case expect::mail:
        result(upstream_stage::mail, r);
        if (!r.positive()) state_ = client_state::idle;
        return;
    case expect::rcpt: {
        const bool dropped = !rcpt_dsn_dropped_.empty() && rcpt_dsn_dropped_.front();
        if (!rcpt_dsn_dropped_.empty()) rcpt_dsn_dropped_.pop_front();
        if (!r.positive() || !(dropped || mail_dsn_dropped_)) return result(upstream_stage::rcpt, r);
        mail_dsn_dropped_ = false;  // said once, with the first accepted RCPT
        return result(upstream_stage::rcpt, with_dsn_not_relayed(r));
    }
    case expect::data:
        if (r.code == 354) {
            state_ = client_state::content;
            result(upstream_stage::data, r);
        } else {
            if (r.code >= 300 && r.code < 400) return fail(failure_kind::protocol, "unexpected reply to DATA " + std::to_string(r.code));
            converting_ = false;
            result(upstream_stage::data, r);
        }
        return;
    case expect::bdat_chunk:
        if (!r.positive()) state_ = client_state::transaction;
        return result(upstream_stage::bdat_chunk, r);
    case expect::end_of_data:
        state_ = client_state::idle;
        bdat_upstream_ = converting_ = false;
        return result(upstream_stage::end_of_data, r);
    case expect::rset:
        if (!r.positive()) return fail(failure_kind::protocol, "upstream refused RSET " + std::to_string(r.code));
        return;
    case expect::quit:
        state_ = client_state::closed;
        out_.emplace_back(ca::close_connection{});
        return;
    }
}

void client_session::setup_reply(expect e, const reply& r) {
    switch (e) {
    case expect::banner:
        if (r.code != 220) return fail(failure_kind::greeting, "upstream greeting " + std::to_string(r.code));
        send("EHLO " + options_.helo_name + "\r\n");
        return expect_reply(expect::ehlo);
    case expect::ehlo:
        if (r.code != 250) {  // RFC 5321 §4.1.1.1: fall back to HELO
            caps_ = {};
            send("HELO " + options_.helo_name + "\r\n");
            return expect_reply(expect::helo);
        }
        caps_ = parse_ehlo_reply(r);
        return after_greeting();
    case expect::helo:
        if (r.code != 250) return fail(failure_kind::protocol, "upstream refused HELO " + std::to_string(r.code));
        caps_ = {};
        return after_greeting();
    case expect::starttls:
        if (r.code == 220) {
            state_ = client_state::tls_handshake;  // on_bytes() emits start_tls if nothing follows
            return;
        }
        if (options_.starttls == upstream_tls::required)
            return fail(failure_kind::starttls_refused, "upstream refused STARTTLS " + std::to_string(r.code));
        out_.emplace_back(ca::log_note{"reason=upstream refused STARTTLS, continuing without TLS"});
        caps_.starttls = false;
        return after_greeting();
    case expect::xclient:
        if (r.code != 220) return fail(failure_kind::protocol, "upstream refused XCLIENT " + std::to_string(r.code));
        xclient_done_ = true;
        send("EHLO " + options_.helo_name + "\r\n");
        return expect_reply(expect::ehlo);
    default: return;
    }
}

void client_session::after_greeting() {
    if (!tls_ && options_.starttls != upstream_tls::none && caps_.starttls) {
        send("STARTTLS\r\n");
        return expect_reply(expect::starttls);
    }
    if (!tls_ && options_.starttls == upstream_tls::required) return fail(failure_kind::starttls_missing, "upstream does not offer STARTTLS");
    if (options_.xclient && caps_.xclient && !xclient_done_) {
        const auto& x = *options_.xclient;
        std::string cmd = "XCLIENT";
        const std::pair<const char*, const std::string*> attrs[] = {
            {"ADDR", &x.addr}, {"NAME", &x.name}, {"HELO", &x.helo}, {"PROTO", &x.proto}};
        for (const auto& [name, value] : attrs)
            if (!value->empty() && caps_.xclient_supports(name)) cmd += std::string(" ") + name + '=' + encode_xtext(*value);
        send(cmd + "\r\n");
        return expect_reply(expect::xclient);
    }
    state_ = client_state::idle;
    if (pending_mail_) send_mail();
}

std::vector<client_action> client_session::on_tls_established() {
    if (state_ != client_state::tls_handshake) return take();
    tls_ = true;
    caps_ = {};
    state_ = client_state::greeting;
    send("EHLO " + options_.helo_name + "\r\n");  // RFC 3207 §4.2: forget the old EHLO
    expect_reply(expect::ehlo);
    return take();
}

std::vector<client_action> client_session::on_tls_failed(failure_kind kind, std::string_view why) {
    fail(kind, why.empty() ? std::string("TLS handshake with the upstream failed")
                     : "TLS with the upstream failed: " + std::string(why));
    return take();
}

std::vector<client_action> client_session::on_closed() {
    if (state_ != client_state::closed) {
        if (!expected_.empty() && expected_.back() == expect::quit) {
            state_ = client_state::closed;
            expected_.clear();
        } else {
            fail(failure_kind::closed, "upstream closed the connection");
        }
    }
    return take();
}

std::string_view client_session::describe(expect e) noexcept {
    switch (e) {
        case expect::banner: return "the greeting";
        case expect::ehlo: return "the reply to EHLO";
        case expect::helo: return "the reply to HELO";
        case expect::starttls: return "the reply to STARTTLS";
        case expect::xclient: return "the reply to XCLIENT";
        case expect::mail: return "the reply to MAIL";
        case expect::rcpt: return "the reply to RCPT";
        case expect::data: return "the reply to DATA";
        case expect::bdat_chunk: return "the reply to BDAT";
        case expect::end_of_data: return "the reply to end of data";
        case expect::rset: return "the reply to RSET";
        case expect::quit: return "the reply to QUIT";
    }
    return "a reply";
}

std::vector<client_action> client_session::on_timeout() {
    fail(failure_kind::timeout, "upstream timed out");
    return take();
}

std::vector<client_action> client_session::mail(const path& reverse_path, const mail_parameters& params) {
    if (state_ == client_state::closed) {
        out_.emplace_back(ca::failure{upstream_stage::mail, failure_kind::closed, "upstream connection closed"});
        return take();
    }
    pending_mail_.emplace(reverse_path, params);
    if (state_ == client_state::idle && expected_.empty()) send_mail();
    return take();
}

void client_session::send_mail() {
    auto [rp, params] = std::move(*pending_mail_);
    pending_mail_.reset();
    if (params.smtputf8 && !caps_.smtputf8)
        return result(upstream_stage::mail, make_reply(553, "5.6.7 Upstream does not support SMTPUTF8"));
    if (params.body == body_type::eight_bit_mime && !caps_.eight_bit_mime)
        return result(upstream_stage::mail, make_reply(554, "5.6.3 Upstream does not support 8BITMIME"));
    if (params.body == body_type::binary_mime && !(caps_.binary_mime && caps_.chunking))
        return result(upstream_stage::mail, make_reply(554, "5.6.3 Upstream does not support BINARYMIME"));
    if (params.size && caps_.size && *caps_.size > 0 && *params.size > *caps_.size)
        return result(upstream_stage::mail, make_reply(552, "5.3.4 Message too big for the upstream"));
    if (!caps_.size) params.size.reset();
    if (params.body == body_type::seven_bit && !caps_.eight_bit_mime) params.body = body_type::unspecified;
    mail_dsn_dropped_ = false;
    rcpt_dsn_dropped_.clear();
    if (!caps_.dsn && (params.ret != dsn_ret::unspecified || params.envid)) {
        out_.emplace_back(ca::log_note{"reason=upstream lacks DSN, RET/ENVID not relayed (said in the RCPT reply)"});
        params.ret = dsn_ret::unspecified;
        params.envid.reset();
        mail_dsn_dropped_ = true;
    }
    send("MAIL FROM:" + rp.to_wire() + params.to_wire() + "\r\n");
    expect_reply(expect::mail);
    state_ = client_state::transaction;
}

std::vector<client_action> client_session::rcpt(const path& forward_path, const rcpt_parameters& params) {
    if (state_ != client_state::transaction) {
        out_.emplace_back(ca::failure{upstream_stage::rcpt, failure_kind::protocol, "no upstream transaction"});
        return take();
    }
    rcpt_parameters p = params;
    const bool dropped = !caps_.dsn && (p.notify != 0 || p.orcpt);
    if (dropped) {
        out_.emplace_back(ca::log_note{"reason=upstream lacks DSN, NOTIFY/ORCPT not relayed (said in the RCPT reply)"});
        p = {};
    }
    rcpt_dsn_dropped_.push_back(dropped);
    send("RCPT TO:" + forward_path.to_wire() + p.to_wire() + "\r\n");
    expect_reply(expect::rcpt);
    return take();
}

std::vector<client_action> client_session::begin_data(data_mode mode) {
    if (state_ != client_state::transaction) {
        out_.emplace_back(ca::failure{upstream_stage::data, failure_kind::protocol, "no upstream transaction"});
        return take();
    }
    if (std::find(expected_.begin(), expected_.end(), expect::data) != expected_.end()) {
        // A second DATA behind an unanswered one would be read by the
        // upstream as the first line of the message (found by fuzzing).
        fail(failure_kind::protocol, "DATA requested while one is unanswered");
        return take();
    }
    bdat_upstream_ = mode == data_mode::bdat && caps_.chunking;
    converting_ = mode == data_mode::bdat && !caps_.chunking;
    stuffer_ = {};
    if (bdat_upstream_) {  // nothing to send yet: BDAT needs no go-ahead
        state_ = client_state::content;
        result(upstream_stage::data, make_reply(354, "Ready for BDAT chunks"));
        return take();
    }
    send("DATA\r\n");
    expect_reply(expect::data);
    return take();
}

std::vector<client_action> client_session::bdat(std::uint64_t size, bool last) {
    if (state_ != client_state::content || (!bdat_upstream_ && !converting_)) {
        fail(failure_kind::protocol, "BDAT chunk outside a BDAT transaction");
        return take();
    }
    chunk_remaining_ = size;
    chunk_last_ = last;
    if (bdat_upstream_) send("BDAT " + std::to_string(size) + (last ? " LAST\r\n" : "\r\n"));
    if (size == 0) finish_chunk();
    return take();
}

void client_session::finish_chunk() {
    if (bdat_upstream_) return expect_reply(chunk_last_ ? expect::end_of_data : expect::bdat_chunk);
    if (chunk_last_) {
        std::string tail;
        stuffer_.finish(tail);
        send(std::move(tail));
        return expect_reply(expect::end_of_data);
    }
    result(upstream_stage::bdat_chunk, make_reply(250, "2.0.0 Chunk relayed"));
}

std::vector<client_action> client_session::bytes(std::string content) {
    if (state_ != client_state::content) {
        fail(failure_kind::protocol, "message bytes outside message content");
        return take();
    }
    if (!bdat_upstream_ && !converting_) {
        send(std::move(content));
        return take();
    }
    if (content.size() > chunk_remaining_) {
        fail(failure_kind::protocol, "more BDAT bytes than the chunk size");
        return take();
    }
    const std::size_t n = content.size();
    if (converting_) {
        std::string out;
        stuffer_.feed(content, out);
        send(std::move(out));
    } else {
        send(std::move(content));
    }
    chunk_remaining_ -= n;
    if (chunk_remaining_ == 0 && n != 0) finish_chunk();
    return take();
}

std::vector<client_action> client_session::end_of_data() {
    if (state_ != client_state::content || bdat_upstream_ || converting_) {
        fail(failure_kind::protocol, "end of data outside DATA content");
        return take();
    }
    send(".\r\n");
    expect_reply(expect::end_of_data);
    return take();
}

std::vector<client_action> client_session::abort() {
    switch (state_) {
    case client_state::content:
        out_.emplace_back(ca::log_note{"reason=transaction aborted inside message content, closing"});
        out_.emplace_back(ca::close_connection{});
        state_ = client_state::closed;
        expected_.clear();
        break;
    case client_state::transaction:
        send("RSET\r\n");
        expect_reply(expect::rset);
        state_ = client_state::idle;
        break;
    default: pending_mail_.reset(); break;
    }
    return take();
}

std::vector<client_action> client_session::quit() {
    if (state_ == client_state::closed) return take();
    if (state_ == client_state::content) return abort();
    const bool starttls_unanswered =
        std::find(expected_.begin(), expected_.end(), expect::starttls) != expected_.end();
    if (state_ == client_state::tls_handshake || starttls_unanswered) {
        // The upstream expects a ClientHello now (or will, after its 220):
        // a plaintext QUIT would be read as a broken handshake record, and
        // RFC 3207 §4 forbids pipelining behind STARTTLS. Just close (both
        // found by fuzzing).
        out_.emplace_back(ca::close_connection{});
        state_ = client_state::closed;
        expected_.clear();
        pending_mail_.reset();
        return take();
    }
    send("QUIT\r\n");
    expect_reply(expect::quit);
    state_ = client_state::idle;
    return take();
}

}  // namespace dsproxy::smtp
