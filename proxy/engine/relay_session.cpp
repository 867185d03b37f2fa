// relay_session — see relay_session.hpp.
#include "proxy/engine/relay_session.hpp"

#include "proxy/engine/outbound_router.hpp"
#include "proxy/engine/upstream_check.hpp"
#include "proxy/log/logging.hpp"
#include "proxy/protocol/proxy_header.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <deque>

namespace dsproxy::engine {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Upstream output gathered before a write is forced: one client read's worth
// of content plus a Received header and the final dot fit.
constexpr std::size_t max_gathered = 64 * 1024;

std::span<char> shared_upstream_buffer() {
    thread_local std::array<char, 64 * 1024> buffer;
    return buffer;
}

std::optional<asio::ip::address> ip_literal(const std::string& host) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) return std::nullopt;
    return address;
}

std::string reply_text(const smtp::reply& r) {
    std::string wire = r.to_wire();
    const auto eol = wire.find("\r\n");
    return log::printable(wire.substr(0, eol), 200);
}

}  // namespace

struct relay_session::leg {
    leg(net::tls_socket s, smtp::client_options o, upstream_host h)
        : socket(std::move(s)), machine(std::move(o)), host(std::move(h)) {}
    net::tls_socket socket;
    smtp::client_session machine;
    upstream_host host;
    bool dead = false;
    bool would_refuse = false;  // mode testing: this connection fails the level, used anyway
    std::string tls = "none";   // for the transaction log: protocol and verdict, once TLS is up
    // Commands and content not yet written: gathered into one write, sent
    // before any wait (flush_upstream), so MAIL+RCPT+... or a Received header,
    // a block of content and the final dot cost one syscall, not three.
    std::string out;
};

relay_session::relay_session(net::tls_socket client, front_settings settings, smtp::server_options options,
                             smtp::session_policy policy, upstream_settings upstream, outbound_router* router)
    : front_session(std::move(client), std::move(settings), std::move(options), std::move(policy)),
      upstream_(std::move(upstream)),
      router_(router) {}

asio::awaitable<bool> relay_session::choose_route(const smtp::path& first_recipient) {
    const auto decision = co_await router_->route(first_recipient.box.domain);
    if (decision.refusal) {
        info("route domain={} refused: {}", log::printable(first_recipient.box.domain),
             reply_text(*decision.refusal));
        post(server().on_upstream_reply(smtp::upstream_stage::mail, *decision.refusal));
        co_return false;
    }
    const bool reuse = leg_ && leg_->machine.reusable() && !leg_->dead && decision.route_key == route_key_ &&
                       decision.policy_key == policy_key_;
    if (!reuse && leg_) co_await close_upstream();
    upstream_ = decision.upstream;
    route_key_ = decision.route_key;
    policy_key_ = decision.policy_key;
    route_domain_ = decision.domain;
    std::string hosts;
    for (const auto& h : upstream_.hosts) hosts += (hosts.empty() ? "" : ",") + h.host + ":" + std::to_string(h.port);
    info("route domain={} policy={} level={} hosts={}{}", route_domain_, policy_key_, upstream_.level, hosts,
         reuse ? " (connection reused)" : "");
    co_return true;
}

asio::awaitable<bool> relay_session::same_route(const smtp::path& recipient) {
    const auto decision = co_await router_->route(recipient.box.domain);
    if (decision.refusal) {
        post(server().on_upstream_reply(smtp::upstream_stage::rcpt, *decision.refusal));
        co_return false;
    }
    if (decision.domain == route_domain_ || (decision.route_key == route_key_ && decision.policy_key == policy_key_))
        co_return true;
    info("rcpt domain={} routes elsewhere (policy={}) than this transaction's {}: 452", decision.domain,
         decision.policy_key, route_domain_);
    post(server().on_upstream_reply(smtp::upstream_stage::rcpt,
                                    smtp::make_reply(452, "4.5.3 Too many recipients for this transaction "
                                                          "(different route or policy); send it again")));
    co_return false;
}

void relay_session::count_policy_outcome(policy_outcome outcome) {
    // Per-domain policies are the outbound role's (the inbound role's
    // upstream policy is the backend's, not a domain's).
    if (auto* m = settings().metrics; m && router_)
        m->policy_evaluated(policy_direction::outbound, upstream_.policy_entry, config::to_name(upstream_.policy_level),
                            outcome);
}

void relay_session::note_policy_passed() {
    // The MAIL reply: a connection satisfied the level, or, in mode testing,
    // is used although it does not. A level from `encrypt` up on a plain
    // connection can only be mode testing (enforced, the leg would have failed).
    if (!leg_->would_refuse && upstream_.policy_level >= config::tls_level::encrypt && !leg_->socket.is_tls()) {
        leg_->would_refuse = true;
        info("upstream={} host={} mode=testing reason=would refuse: no TLS (level {})", upstream_.name,
             leg_->host.host, upstream_.level);
    }
    count_policy_outcome(leg_->would_refuse ? policy_outcome::would_refuse : policy_outcome::passed);
}

void relay_session::report_exhausted(smtp::upstream_stage stage, const std::string& reason) {
    if (!policy_failure_.empty() && stage == smtp::upstream_stage::mail) {
        // SPEC §6.3: no host passed the domain's TLS policy; no data crosses.
        count_policy_outcome(policy_outcome::refused);
        post(server().on_upstream_reply(stage, policy_failure_reply(upstream_, route_domain_, policy_failure_)));
        return;
    }
    post(server().on_upstream_failed(stage, reason));
}

relay_session::~relay_session() = default;

asio::awaitable<void> relay_session::on_upstream_action(smtp::server_action action) {
    using namespace smtp::actions;
    if (auto* m = std::get_if<upstream_mail>(&action)) {
        mail_.emplace(m->reverse_path, m->params);
        recipients_.clear();
        size_ = 0;
        started_ = steady_clock::now();
        mail_accepted_ = false;
        policy_failure_.clear();
        if (router_ && !co_await choose_route(m->first_recipient)) {
            mail_.reset();
            co_return;
        }
        if (leg_ && (!leg_->machine.reusable() || leg_->dead)) leg_.reset();
        if (!leg_) {
            plain_fallback_ = false;
            if (!co_await open_leg(false, 0)) co_return;
        }
        co_await run_client(leg_->machine.mail(m->reverse_path, m->params));
        co_return;
    }
    if (std::holds_alternative<upstream_abort>(action)) {
        if (mail_) log_transaction(nullptr, "aborted");
        mail_.reset();
        if (leg_) co_await run_client(leg_->machine.abort());
        co_return;
    }
    if (!leg_) {
        // Only reachable if the leg died between two actions of one batch.
        const auto stage = server().awaiting().value_or(smtp::upstream_stage::mail);
        post(server().on_upstream_failed(stage, "upstream connection lost"));
        co_return;
    }
    if (auto* r = std::get_if<upstream_rcpt>(&action)) {
        if (router_ && !recipients_.empty() && !co_await same_route(r->forward_path)) co_return;
        recipients_.push_back(r->forward_path.to_wire());
        co_await run_client(leg_->machine.rcpt(r->forward_path, r->params));
    } else if (auto* d = std::get_if<upstream_data>(&action)) {
        co_await run_client(leg_->machine.begin_data(d->mode));
    } else if (auto* b = std::get_if<upstream_bdat>(&action)) {
        co_await run_client(leg_->machine.bdat(b->size, b->last));
    } else if (auto* bytes = std::get_if<upstream_bytes>(&action)) {
        size_ += bytes->bytes.size();
        co_await run_client(leg_->machine.bytes(std::move(bytes->bytes)));
    } else if (std::holds_alternative<upstream_end_of_data>(action)) {
        co_await run_client(leg_->machine.end_of_data());
    }
}

asio::awaitable<std::optional<std::vector<smtp::client_action>>> relay_session::flush_upstream() {
    if (!leg_ || leg_->dead || leg_->out.empty()) co_return std::nullopt;
    boost::system::error_code ec;
    const std::size_t now = leg_->socket.try_write(leg_->out, ec);
    bool done = true;
    if (ec == asio::error::would_block)
        done = co_await timed(timer(), upstream_.timeouts.data_block,
                              leg_->socket.write_all(std::span<const char>(leg_->out).subspan(now), ec));
    leg_->out.clear();
    if (leg_->out.capacity() > 2 * max_gathered) std::string().swap(leg_->out);
    if (done && !ec) co_return std::nullopt;
    leg_->dead = true;
    info("upstream={} reason=write failed: {}", upstream_.name, done ? ec.message() : "timeout");
    co_return done ? leg_->machine.on_closed() : leg_->machine.on_timeout();
}

asio::awaitable<void> relay_session::before_wait() {
    // While the client sends message content, what is gathered is content
    // (the Received header, or BDAT's command and header): the upstream
    // waits for more of it anyway, so it goes with the next block instead of
    // in a write of its own (max_gathered still bounds it).
    const auto state = server().state();
    if (!server().awaiting() && (state == smtp::server_state::data || state == smtp::server_state::bdat)) co_return;
    if (auto failed = co_await flush_upstream()) co_await run_client(std::move(*failed));
}

steady_clock::duration relay_session::reply_timeout(smtp::upstream_stage stage) const {
    // The phase of the reply the upstream owes next (RFC 5321 §4.5.3.2);
    // the server session's stage when the machine has sent nothing yet.
    using e = smtp::client_session::expect;
    const auto& t = upstream_.timeouts;
    switch (leg_->machine.awaiting().value_or(e::mail)) {
        case e::banner: return t.greeting;
        case e::ehlo: case e::helo: case e::starttls: case e::xclient: return t.ehlo;
        case e::mail: case e::rset: case e::quit: break;
        case e::rcpt: return t.rcpt;
        case e::data: return t.data_init;
        case e::bdat_chunk: return t.data_block;
        case e::end_of_data: return t.data_final;
    }
    return stage == smtp::upstream_stage::end_of_data ? t.data_final : t.mail;
}

asio::awaitable<void> relay_session::wait_for_upstream() {
    const auto stage = *server().awaiting();
    if (!leg_) {
        post(server().on_upstream_failed(stage, "no upstream connection"));
        co_return;
    }
    const auto timeout = reply_timeout(stage);
    const auto buffer = shared_upstream_buffer();
    boost::system::error_code ec;
    const std::size_t n = leg_->socket.try_read(buffer, ec);
    if (n > 0) {
        co_await run_client(leg_->machine.on_bytes(std::string_view(buffer.data(), n)));
        co_return;
    }
    if (ec == asio::error::would_block) {
        const bool ready =
            co_await leg_->socket.wait_ready_within(leg_->socket.wants_write(), timer(), timeout, stopping_flag(), ec);
        if (!ready) {
            if (stopping()) co_return;
            // Named after what the upstream owes (its greeting, the reply to
            // EHLO, ...), not the client's command that is waiting for it.
            const auto owed = leg_->machine.awaiting();
            info("upstream={} host={} reason=timeout waiting for {}", upstream_.name, leg_->host.host,
                 owed ? std::string(smtp::client_session::describe(*owed))
                      : "the reply to " + std::string(smtp::to_string(stage)));
            co_await run_client(leg_->machine.on_timeout());
            co_return;
        }
        if (!ec) co_return;
    }
    co_await run_client(leg_->machine.on_closed());
}

asio::awaitable<void> relay_session::close_upstream() {
    if (!leg_) co_return;
    co_await flush_upstream();  // (nothing is pending here in practice: every wait flushed)
    if (leg_->machine.reusable() && !leg_->dead) {
        // Polite QUIT; its reply is not waited for beyond a short bound.
        for (auto& a : leg_->machine.quit())
            if (auto* s = std::get_if<smtp::client_actions::send>(&a)) {
                boost::system::error_code ec;
                co_await timed(timer(), std::chrono::seconds(5), leg_->socket.write_all(s->bytes, ec));
            }
    }
    co_await leg_->socket.shutdown();
    leg_.reset();
}

asio::awaitable<bool> relay_session::open_leg(bool plain_only, std::size_t first_host) {
    smtp::client_options options;
    options.helo_name = upstream_.helo_name;
    options.starttls = plain_only ? smtp::upstream_tls::none : upstream_.starttls;
    options.limits = upstream_.limits;
    if (upstream_.xclient) {
        smtp::xclient_facts facts;
        facts.addr = settings().client_endpoint.address().to_string();
        facts.name = "[UNAVAILABLE]";  // dsproxy does no reverse lookups
        facts.helo = server().helo_name();
        facts.proto = server().esmtp() ? "ESMTP" : "SMTP";
        options.xclient = facts;
    }
    std::string errors;
    for (std::size_t i = first_host; i < upstream_.hosts.size(); ++i) {
        const auto& host = upstream_.hosts[i];
        std::string error;
        if (co_await connect_to(host, options, error)) {
            host_index_ = i;
            info("upstream={} host={}:{} connected{}", upstream_.name, host.host, host.port,
                 plain_only ? " (plain text after a failed handshake)" : "");
            co_return true;
        }
        info("upstream={} host={}:{} reason={}", upstream_.name, host.host, host.port, error);
        if (!errors.empty()) errors += "; ";
        errors += host.host + ": " + error;
    }
    report_exhausted(smtp::upstream_stage::mail, "cannot connect to the upstream: " + errors);
    co_return false;
}

asio::awaitable<bool> relay_session::connect_to(const upstream_host& host, const smtp::client_options& options,
                                               std::string& error) {
    auto executor = co_await asio::this_coro::executor;
    std::vector<net::tcp::endpoint> endpoints;
    if (!host.addresses.empty()) {
        for (const auto& a : host.addresses) {
            boost::system::error_code aec;
            const auto address = asio::ip::make_address(a, aec);
            if (!aec) endpoints.emplace_back(address, host.port);
        }
    } else if (const auto literal = ip_literal(host.host)) {
        // An IP literal (the usual backend): no resolver, whose thread would
        // cost two context switches per session.
        endpoints.emplace_back(*literal, host.port);
    } else {
        net::tcp::resolver resolver(executor);
        auto resolved = co_await timed(timer(), upstream_.timeouts.connect,
                                       resolver.async_resolve(host.host, std::to_string(host.port), use_tuple));
        if (!resolved) {
            error = "name resolution timed out";
            co_return false;
        }
        auto [rec, results] = std::move(*resolved);
        if (rec) {
            error = "cannot resolve: " + rec.message();
            co_return false;
        }
        for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    if (endpoints.empty()) {
        error = "no address to connect to";
        co_return false;
    }
    net::tcp::socket socket(executor);
    const auto connect_started = steady_clock::now();
    auto connected = co_await timed(timer(), upstream_.timeouts.connect,
                                    asio::async_connect(socket, endpoints, use_tuple));
    if (!connected) {
        error = "connect timed out";
        co_return false;
    }
    if (auto [cec, ep] = *connected; cec) {
        error = "connect failed: " + cec.message();
        co_return false;
    }
    net::tls_socket upstream_socket(std::move(socket));
    if (upstream_.proxy_protocol) {
        // PROXY v2 with the client's addresses and the TLS facts of its leg.
        const auto& remote = settings().client_endpoint;
        const auto& local = settings().local_endpoint;
        protocol::proxy_tls_info tls_info;
        std::string sni;  // PP2_TYPE_AUTHORITY: the name the client asked for
        if (client().is_tls()) {
            const auto f = client().facts();
            tls_info.tls = true;
            tls_info.version = f.protocol;
            tls_info.cipher = f.cipher;
            X509* peer = SSL_get0_peer_certificate(client().ssl());
            tls_info.client_certificate = peer != nullptr;
            tls_info.verified = server().tls() && server().tls()->client_certificate_verified;
            if (peer) {
                char cn[256];
                if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn) > 0)
                    tls_info.common_name = cn;
            }
            sni = f.sni;
        }
        const auto header = protocol::encode_v2({remote.address().to_string(), remote.port(),
                                                 local.address().to_string(), local.port()},
                                                tls_info, sni);
        if (!header) {
            error = "cannot encode a PROXY v2 header for the client's addresses";
            co_return false;
        }
        boost::system::error_code wec;
        const bool written =
            co_await timed(timer(), upstream_.timeouts.connect, upstream_socket.write_all(*header, wec));
        if (!written || wec) {
            error = "cannot send the PROXY header";
            co_return false;
        }
    }
    if (auto* m = settings().metrics) m->upstream_connected(steady_clock::now() - connect_started);
    leg_ = std::make_unique<leg>(std::move(upstream_socket), options, host);
    co_return true;
}

asio::awaitable<void> relay_session::run_client(std::vector<smtp::client_action> first) {
    using namespace smtp::client_actions;
    std::deque<smtp::client_action> queue(std::make_move_iterator(first.begin()), std::make_move_iterator(first.end()));
    auto more = [&](std::vector<smtp::client_action> next) {
        for (auto& a : next) queue.push_back(std::move(a));
    };
    while (!queue.empty()) {
        smtp::client_action action = std::move(queue.front());
        queue.pop_front();
        if (auto* s = std::get_if<send>(&action)) {
            if (!leg_ || leg_->dead) continue;
            if (leg_->out.empty())
                leg_->out = std::move(s->bytes);  // a block of content: moved, not copied
            else
                leg_->out += s->bytes;
            if (leg_->out.size() < max_gathered) continue;
            if (auto failed = co_await flush_upstream()) more(std::move(*failed));
        } else if (std::holds_alternative<smtp::client_actions::start_tls>(action)) {
            std::string reason;
            if (co_await upstream_tls(reason)) {
                more(leg_->machine.on_tls_established());
            } else if (upstream_.starttls == smtp::upstream_tls::opportunistic && reason.starts_with("handshake")) {
                // Opportunistic only: a failed handshake leaves a dead
                // connection; retry once in plain text with the same MAIL.
                const std::size_t host = host_index_;
                leg_.reset();
                plain_fallback_ = true;
                if (!co_await open_leg(true, host)) co_return;
                queue.clear();  // what the old connection's machine still wanted is moot
                if (mail_) more(leg_->machine.mail(mail_->first, mail_->second));
            } else {
                leg_->dead = true;
                policy_failure_ = reason;
                more(leg_->machine.on_tls_failed(reason));
            }
        } else if (auto* r = std::get_if<result>(&action)) {
            if (r->stage == smtp::upstream_stage::mail) {
                if (leg_) note_policy_passed();
                if (r->value.positive()) mail_accepted_ = true;
            }
            if (r->stage == smtp::upstream_stage::end_of_data) {
                log_transaction(&r->value, {});
                mail_.reset();
            }
            post(server().on_upstream_reply(r->stage, r->value));
        } else if (auto* f = std::get_if<failure>(&action)) {
            info("upstream={} host={} stage={} reason={}", upstream_.name, leg_ ? leg_->host.host : "-",
                 smtp::to_string(f->stage), log::printable(f->reason));
            if (upstream_.starttls == smtp::upstream_tls::required && policy_failure_.empty() &&
                f->reason.find("STARTTLS") != std::string::npos)
                policy_failure_ = f->reason;  // SPEC §6.3: STARTTLS not offered is a policy failure
            if (f->stage == smtp::upstream_stage::mail && !mail_accepted_ && mail_ &&
                host_index_ + 1 < upstream_.hosts.size()) {
                // Set-up failed on this host (connection, STARTTLS, certificate):
                // the next MX host, as an MTA would (SPEC §6.3).
                info("upstream={} trying the next host", upstream_.name);
                if (leg_) co_await leg_->socket.shutdown();
                leg_.reset();
                plain_fallback_ = false;
                if (!co_await open_leg(false, host_index_ + 1)) {
                    log_transaction(nullptr, f->reason);
                    mail_.reset();
                    co_return;
                }
                queue.clear();  // the old connection's remaining actions (its close) are moot
                more(leg_->machine.mail(mail_->first, mail_->second));
                continue;
            }
            if (mail_) log_transaction(nullptr, f->reason);
            mail_.reset();
            report_exhausted(f->stage, f->reason);
        } else if (std::holds_alternative<close_connection>(action)) {
            if (leg_) {
                co_await leg_->socket.shutdown();
                leg_.reset();
            }
        } else if (auto* n = std::get_if<log_note>(&action)) {
            info("upstream={} {}", upstream_.name, log::printable(n->text, 1024));
        }
    }
}

asio::awaitable<bool> relay_session::upstream_tls(std::string& reason) {
    if (!upstream_.tls) {
        reason = "no TLS client context for this upstream";
        co_return false;
    }
    if (!leg_->out.empty()) {
        // Never carry plaintext across the upgrade: STARTTLS was the last command.
        reason = "handshake setup failed: commands pending after STARTTLS";
        co_return false;
    }
    std::string error;
    tls::ssl_ptr ssl = upstream_.tls->new_session(leg_->host.host, upstream_.client_certificate.get(), error);
    if (!ssl) {
        reason = "handshake setup failed: " + error;
        co_return false;
    }
    boost::system::error_code ec;
    const bool done = co_await timed(timer(), upstream_.timeouts.tls_handshake,
                                     leg_->socket.upgrade(std::move(ssl), net::tls_role::client, ec, error));
    if (auto* m = settings().metrics) m->tls_handshake(tls_leg::out, done && !ec, leg_->socket.facts().protocol);
    if (!done || ec) {
        reason = "handshake failed: " + (done ? error : std::string("timeout"));
        info("tls=out upstream={} host={} result=failed reason={}", upstream_.name, leg_->host.host,
             log::printable(reason));
        co_return false;
    }
    const auto facts = leg_->socket.facts();
    const auto verdict = judge_upstream_certificate(*leg_->socket.ssl(), upstream_, leg_->host.host);
    const bool passed = verdict.passed;
    if (!passed) reason = verdict.reason;
    if (!passed && settings().metrics)
        settings().metrics->verification_failed(tls_leg::out, config::to_name(upstream_.policy_level),
                                                failure_label(verdict.result));
    const std::string& verdict_text = verdict.summary;
    info("tls=out upstream={} host={} level={} protocol={} cipher={} verdict={}", upstream_.name, leg_->host.host,
         upstream_.level, facts.protocol, facts.cipher, verdict_text);
    // The verdict's first words ("passed"/"failed"/"unchecked") and the name
    // that matched, without the subject and fingerprint of the line above.
    leg_->tls = facts.protocol + " " + verdict_text.substr(0, verdict_text.find(' '));
    if (verdict.result.domain_match && verdict.result.domain_match->matched)
        leg_->tls += " matched=" + log::printable(verdict.result.domain_match->matched_name) + " rule=" +
                     std::string(matching::to_string(verdict.result.domain_match->how));
    if (!passed && !upstream_.enforce) {
        leg_->would_refuse = true;
        info("upstream={} mode=testing reason=would refuse: {}", upstream_.name, log::printable(reason));
        co_return true;
    }
    co_return passed;
}

void relay_session::log_transaction(const smtp::reply* final_reply, std::string_view failure) {
    if (!mail_) return;
    std::string rcpts;
    for (const auto& r : recipients_) rcpts += (rcpts.empty() ? "" : ",") + log::printable(r);
    const auto took = steady_clock::now() - started_;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
    if (auto* m = settings().metrics; m && final_reply) {
        m->upstream_transaction(took);
        if (final_reply->positive()) m->message_relayed(size_);
    }
    // The route (upstream=mx:DOMAIN or the backend), the host used and its TLS.
    const std::string host = leg_ ? leg_->host.host + ":" + std::to_string(leg_->host.port) : "-";
    info("txn from={} to={} size={} upstream={} result={} duration_ms={} host={} tls=\"{}\"",
         log::printable(mail_->first.to_wire()), rcpts.empty() ? "-" : rcpts, size_, upstream_.name,
         final_reply ? "\"" + reply_text(*final_reply) + "\"" : "\"failed: " + log::printable(failure) + "\"", ms, host,
         leg_ ? leg_->tls : "-");
}

}  // namespace dsproxy::engine
