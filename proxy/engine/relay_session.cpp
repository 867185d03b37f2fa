// relay_session — see relay_session.hpp.
#include "proxy/engine/relay_session.hpp"

#include "proxy/engine/engine_limits.hpp"
#include "proxy/engine/mta_sts.hpp"
#include "proxy/engine/next_hop_link.hpp"
#include "proxy/engine/outbound_router.hpp"
#include "proxy/engine/transaction_log.hpp"
#include "proxy/engine/upstream_check.hpp"

#include <deque>

namespace dsproxy::engine {

relay_session::relay_session(net::tls_socket client, front_settings settings, smtp::server_options options,
                             smtp::session_policy policy, upstream_settings upstream, outbound_router* router)
    : front_session(std::move(client), std::move(settings), std::move(options), std::move(policy)),
      upstream_(std::move(upstream)),
      router_(router),
      journal_(front_session::settings(), upstream_, router != nullptr) {}

asio::awaitable<bool> relay_session::choose_route(const smtp::path& first_recipient) {
    const auto decision = co_await router_->route(first_recipient.box.domain);
    journal_.sts_looked_up(decision);
    if (decision.refusal) {
        journal_.route_refused(first_recipient.box.domain, *decision.refusal, sts_route_fields(decision));
        post(server().on_upstream_reply(smtp::upstream_stage::mail, *decision.refusal));
        co_return false;
    }
    const bool reuse = leg_ && leg_->machine.reusable() && !leg_->dead && route_.same_next_hops(decision);
    if (!reuse && leg_) co_await close_upstream();
    upstream_ = decision.upstream;
    route_ = transaction_route::of(decision);
    journal_.route_chosen(route_, reuse, sts_route_fields(decision));
    co_return true;
}

asio::awaitable<bool> relay_session::same_route(const smtp::path& recipient) {
    const auto decision = co_await router_->route(recipient.box.domain);
    const auto refusal = route_.refusal_for(decision);
    if (!refusal) co_return true;
    if (!decision.refusal) journal_.routes_elsewhere(decision, route_);
    post(server().on_upstream_reply(smtp::upstream_stage::rcpt, *refusal));
    co_return false;
}

void relay_session::note_would_refuse(const attempt_decision& d, const std::string& reason) {
    // Mode testing: the connection fails a check and is used anyway; said
    // once per connection.
    if (!d.would_refuse || leg_->would_refuse) return;
    leg_->would_refuse = true;
    journal_.would_refuse(d.would_refuse, leg_->host.host, reason);
}

void relay_session::conclude(const attempt_decision& d, smtp::upstream_stage stage, const std::string& reason) {
    if (mail_) log_transaction(nullptr, reason);
    mail_.reset();
    if (d.step == next_step::policy_refusal && stage == smtp::upstream_stage::mail && attempt_->policy_failure()) {
        // docs/design.md §6.3: no host passed the domain's TLS policy; no data crosses.
        journal_.policy_outcome(policy_outcome::refused);
        const auto& why = attempt_->policy_failure()->text;
        journal_.policy_refused(why);
        post(server().on_upstream_reply(
            stage, policy_failure_reply(upstream_, route_.domain, why, id(), attempt_->destination_refused())));
        return;
    }
    post(server().on_upstream_failed(stage, reason));
}

asio::awaitable<std::optional<std::vector<smtp::client_action>>> relay_session::follow(const attempt_decision& d,
                                                                                        smtp::upstream_stage stage,
                                                                                        const std::string& reason) {
    switch (d.step) {
    case next_step::proceed: break;
    case next_step::next_host:
    case next_step::plain_retry:
        // Set-up failed on this host (connection, STARTTLS, certificate):
        // the next MX host, as an MTA would (docs/design.md §6.3); or, opportunistic
        // after a failed handshake, the same host in plain text.
        if (d.step == next_step::next_host) journal_.trying_next_host();
        if (leg_) co_await leg_->socket.shutdown();
        leg_.reset();
        if (!mail_) break;
        if (const bool opened = co_await open_leg(); !opened) break;  // (no co_await inside ||: g++ 12)
        co_return leg_->machine.mail(mail_->from, mail_->params);
    case next_step::policy_refusal:
    case next_step::give_up:
        conclude(d, stage, reason);
        if (leg_ && leg_->dead) {
            co_await leg_->socket.shutdown();
            leg_.reset();
        }
        break;
    }
    co_return std::nullopt;
}

relay_session::~relay_session() = default;

asio::awaitable<void> relay_session::on_upstream_action(smtp::server_action action) {
    using namespace smtp::actions;
    if (auto* m = std::get_if<upstream_mail>(&action)) {
        mail_.emplace(transaction_in_flight{m->reverse_path, m->params, {}, 0, steady_clock::now()});
        if (router_) {
            // (Hoisted: g++ 12 miscompiles a co_await inside a short-circuit operand.)
            const bool routed = co_await choose_route(m->first_recipient);
            if (!routed) {
                mail_.reset();
                co_return;
            }
        }
        if (!upstream_.client_certificate_problem.empty()) {
            const auto refusal = client_certificate_refusal(upstream_, route_.domain, id());
            journal_.client_certificate_unusable(upstream_.client_certificate_problem, !refusal);
            if (refusal) {
                journal_.policy_outcome(policy_outcome::refused);
                journal_.policy_refused(std::string(no_client_certificate));
                mail_.reset();
                post(server().on_upstream_reply(smtp::upstream_stage::mail, *refusal));
                co_return;
            }
        }
        if (leg_ && (!leg_->machine.reusable() || leg_->dead)) leg_.reset();
        attempt_.emplace(upstream_.floor, upstream_.published(), leg_ ? leg_->index : 0);
        if (!leg_) {
            const bool opened = co_await open_leg();
            if (!opened) co_return;
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
        if (router_ && mail_ && !mail_->recipients.empty()) {
            const bool same = co_await same_route(r->forward_path);  // (hoisted, as above)
            if (!same) co_return;
        }
        if (mail_) mail_->recipients.push_back(r->forward_path.to_wire());
        co_await run_client(leg_->machine.rcpt(r->forward_path, r->params));
    } else if (auto* d = std::get_if<upstream_data>(&action)) {
        co_await run_client(leg_->machine.begin_data(d->mode));
    } else if (auto* b = std::get_if<upstream_bdat>(&action)) {
        co_await run_client(leg_->machine.bdat(b->size, b->last));
    } else if (auto* bytes = std::get_if<upstream_bytes>(&action)) {
        if (mail_) mail_->size += bytes->bytes.size();
        co_await run_client(leg_->machine.bytes(std::move(bytes->bytes)));
    } else if (std::holds_alternative<upstream_end_of_data>(action)) {
        co_await run_client(leg_->machine.end_of_data());
    }
}

asio::awaitable<std::optional<std::vector<smtp::client_action>>> relay_session::flush_upstream() {
    if (!leg_) co_return std::nullopt;
    const auto failed = co_await leg_->flush(timer(), upstream_.timeouts.data_block);
    if (!failed) co_return std::nullopt;
    journal_.write_failed(*failed);
    co_return leg_->timed_out_writing() ? leg_->machine.on_timeout() : leg_->machine.on_closed();
}

asio::awaitable<void> relay_session::before_wait() {
    // While the client sends message content, what is gathered is content
    // (the Received header, or BDAT's command and header): the upstream
    // waits for more of it anyway, so it goes with the next block instead of
    // in a write of its own (upstream_leg::gather still bounds it).
    const auto state = server().state();
    if (!server().awaiting() && (state == smtp::server_state::data || state == smtp::server_state::bdat)) co_return;
    if (auto failed = co_await flush_upstream()) co_await run_client(std::move(*failed));
}

asio::awaitable<void> relay_session::wait_for_upstream() {
    const auto stage = *server().awaiting();
    if (!leg_) {
        post(server().on_upstream_failed(stage, "no upstream connection"));
        co_return;
    }
    const auto timeout = upstream_.timeouts.for_reply(leg_->machine.awaiting(), stage);
    auto got = co_await leg_->read(timer(), timeout, stopping_flag());
    using status = upstream_leg::read_status;
    if (got.status == status::bytes || got.status == status::closed) {
        co_await run_client(std::move(got.actions));
    } else if (got.status == status::timed_out) {
        // Named after what the upstream owes (its greeting, the reply to
        // EHLO, ...), not the client's command that is waiting for it.
        const auto owed = leg_->machine.awaiting();
        journal_.reply_timed_out(leg_->host.host, owed ? std::string(smtp::client_session::describe(*owed))
                                                       : "the reply to " + std::string(smtp::to_string(stage)));
        co_await run_client(leg_->machine.on_timeout());
    }
}

asio::awaitable<void> relay_session::close_upstream() {
    if (!leg_) co_return;
    co_await flush_upstream();  // (nothing is pending here in practice: every wait flushed)
    co_await leg_->close(timer(), limits::goodbye);
    leg_.reset();
}

asio::awaitable<bool> relay_session::open_leg() {
    // (dsproxy does no reverse lookups: XCLIENT NAME=[UNAVAILABLE].)
    auto options = next_hop_options(upstream_, {settings().client_endpoint.address().to_string(), "[UNAVAILABLE]",
                                                server().helo_name(), server().esmtp() ? "ESMTP" : "SMTP"});
    std::string errors;
    while (true) {
        const auto& host = upstream_.hosts[attempt_->host()];
        smtp::upstream_failure failure{smtp::failure_kind::connect,
                                       "cannot encode a PROXY v2 header for the client's addresses"};
        attempt_decision d;
        if (host.dane && host.dane->action == dane::dane_action::refuse_host) {
            // RFC 7672 §2.2: the host's TLSA lookup failed (or `dane:
            // mandatory` found no usable records): not connected to at all.
            failure.text = refusal_reason(*host.dane);
            journal_.dane_refused_host(host, failure.text);
            d = attempt_->on_refused(failure.text);
        } else {
            options.starttls = attempt_->starttls();
            std::optional<std::string> header;
            if (upstream_.proxy_protocol) header = proxy_v2_header();
            if (!upstream_.proxy_protocol || header) {
                auto opened = co_await upstream_leg::open(host, attempt_->host(), options, header, timer(),
                                                          upstream_.timeouts.connect, settings().metrics);
                if (opened.leg) {
                    leg_ = std::move(opened.leg);
                    journal_.connected(leg_->where(), attempt_->plain());
                    co_return true;
                }
                failure = *opened.failure;
            }
            journal_.connect_failed(host, failure.text);
            d = attempt_->on_failure(failure);
        }
        if (!errors.empty()) errors += "; ";
        errors += host.host + ": " + failure.text;
        if (d.step != next_step::next_host) {
            conclude(d, smtp::upstream_stage::mail, "cannot connect to the upstream: " + errors);
            co_return false;
        }
    }
}

asio::awaitable<void> relay_session::run_client(std::vector<smtp::client_action> first) {
    // The order rule (docs/design.md §2): this queue is drained to its end
    // before front_session carries out anything posted from here (server
    // events go to its pending_ queue, behind the action being carried out);
    // a new connection (fail-over, plain retry) clears what the dead one
    // still wanted.
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
            if (!leg_->gather(std::move(s->bytes))) continue;
            if (auto failed = co_await flush_upstream()) more(std::move(*failed));
        } else if (std::holds_alternative<smtp::client_actions::start_tls>(action)) {
            std::string reason;
            const auto d = co_await upstream_tls(reason);
            if (d.step == next_step::proceed) {
                note_would_refuse(d, reason);
                more(leg_->machine.on_tls_established());
                continue;
            }
            leg_->dead = true;  // a failed handshake or a refused certificate: never used again
            auto next = co_await follow(d, smtp::upstream_stage::mail, reason);
            queue.clear();  // what the old connection's machine still wanted is moot
            if (next) more(std::move(*next));
        } else if (auto* r = std::get_if<result>(&action)) {
            if (r->stage == smtp::upstream_stage::mail && leg_ && upstream_.memo)
                upstream_.memo->learn(leg_->machine.upstream_capabilities());
            if (r->stage == smtp::upstream_stage::mail && leg_ && attempt_ && !attempt_->done()) {
                // The MAIL reply: a connection satisfied the policy, or, in
                // mode testing, is used although it does not.
                const auto d = attempt_->on_ready(leg_->socket.is_tls());
                note_would_refuse(d, {});
                journal_.policy_outcome(leg_->would_refuse ? policy_outcome::would_refuse : policy_outcome::passed);
            }
            if (r->stage == smtp::upstream_stage::end_of_data) {
                log_transaction(&r->value, {});
                mail_.reset();
            }
            post(server().on_upstream_reply(r->stage, r->value));
        } else if (auto* f = std::get_if<failure>(&action)) {
            journal_.leg_failed(leg_.get(), *f);
            attempt_decision d;
            d.step = next_step::give_up;  // no attempt: nothing to fail over
            if (attempt_) d = attempt_->on_failure({f->kind, f->reason});
            auto next = co_await follow(d, f->stage, f->reason);
            if (!next) continue;
            queue.clear();  // the old connection's remaining actions (its close) are moot
            more(std::move(*next));
        } else if (std::holds_alternative<close_connection>(action)) {
            if (leg_) {
                co_await leg_->socket.shutdown();
                leg_.reset();
            }
        } else if (auto* n = std::get_if<log_note>(&action)) {
            journal_.note(n->text);
        }
    }
}

asio::awaitable<attempt_decision> relay_session::upstream_tls(std::string& reason) {
    if (leg_->gathered()) {
        // Never carry plaintext across the upgrade: STARTTLS was the last command.
        reason = "handshake setup failed: commands pending after STARTTLS";
        co_return attempt_->on_failure({smtp::failure_kind::handshake, reason});
    }
    const auto tls = co_await start_next_hop_tls(leg_->socket, upstream_, leg_->host, timer(),
                                                 upstream_.timeouts.tls_handshake, settings().metrics);
    if (tls.failure) {
        reason = tls.failure->text;
        journal_.tls_failed(leg_->host.host, reason, leg_->dane);
        co_return attempt_->on_failure(*tls.failure);
    }
    const auto& verdict = tls.verdict;
    reason = tls.reason();
    leg_->dane = dane::outcome_of(tls.dane_action, true, tls.dane && tls.dane->matched);
    if (tls.sts) leg_->sts_passed = tls.sts->passed;
    journal_.tls_established(leg_->host.host, tls.facts, verdict, leg_->dane,
                             dane_detail(leg_->host.dane.get(), tls.dane));
    leg_->tls = tls_summary(tls.facts, verdict);
    co_return attempt_->on_verdict(tls.sources(), reason);
}

void relay_session::log_transaction(const smtp::reply* final_reply, std::string_view failure) {
    if (!mail_) return;
    const auto now = steady_clock::now();
    auto t = mail_->end(final_reply, failure, upstream_.name, leg_ ? leg_->where() : "", leg_ ? leg_->tls : "", now);
    if (leg_)
        t.dane = dane::to_string(leg_->dane);
    else if (attempt_ && attempt_->refused_before_connecting())  // every host refused by DANE (RFC 7672 §2.2)
        t.dane = dane::to_string(dane::outcome_of(dane::dane_action::refuse_host, false, false));
    if (router_) {
        // Outbound only: the recipient domain's MTA-STS (docs/design.md §6.4).
        t.sts = sts_log_value(upstream_.sts_looked_up, upstream_.sts_state, leg_ ? leg_->sts_passed : std::nullopt);
        t.sts_id = upstream_.sts_id;
    }
    journal_.transaction(t, final_reply, now - mail_->started, mail_->size);
}

}  // namespace dsproxy::engine
