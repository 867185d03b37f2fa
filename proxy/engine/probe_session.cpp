// probe_session — see probe_session.hpp.
#include "proxy/engine/probe_session.hpp"

#include "proxy/engine/engine_limits.hpp"
#include "proxy/engine/next_hop_link.hpp"
#include "proxy/engine/timed.hpp"
#include "proxy/log/logging.hpp"
#include "proxy/net/next_hop_connect.hpp"
#include "tls/certificate_info.hpp"

#include <array>
#include <deque>

namespace dsproxy::engine {

namespace {

std::vector<probed_certificate> peer_chain(SSL& ssl) {
    std::vector<probed_certificate> out;
    // On the client side the chain the server sent includes its own certificate.
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(&ssl);
    for (int i = 0; chain && i < sk_X509_num(chain); ++i) {
        const auto info = tls::describe(*sk_X509_value(chain, i));
        out.push_back({info.subject, info.issuer, info.sha256, info.not_before, info.not_after, info.dns_names});
    }
    return out;
}

// The host's outcome from the attempt's answer.
void settle(probe_result& r, attempt_decision d, std::string reason) {
    r.decision = d;
    r.reason = std::move(reason);
    switch (d.step) {
    case next_step::proceed: r.outcome = probe_outcome::passed; break;
    case next_step::plain_retry: r.outcome = probe_outcome::retry_plain; break;
    default: r.outcome = d.policy ? probe_outcome::refused : probe_outcome::unreachable; break;
    }
}

}  // namespace

asio::awaitable<probe_result> probe_host(const upstream_settings& u, const upstream_host& host,
                                         next_hop_attempt& attempt, std::chrono::steady_clock::duration cap) {
    probe_result r;
    const auto bounded = [cap](steady_clock::duration d) { return std::min(d, cap); };
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor);
    const auto dane_action = host.dane ? host.dane->action : dane::dane_action::none;
    std::optional<tls::dane_result> dane_result;
    const auto settle_dane = [&] {
        r.dane = dane::outcome_of(dane_action, r.tls, dane_result && dane_result->matched);
        r.dane_detail = dane_detail(host.dane.get(), dane_result);
    };
    if (dane_action == dane::dane_action::refuse_host) {
        const auto why = refusal_reason(*host.dane);
        settle(r, attempt.on_refused(why), why);
        settle_dane();
        co_return r;
    }

    auto connected = co_await net::connect_next_hop(host.host, host.port, host.addresses, timer,
                                                    bounded(u.timeouts.connect));
    if (!connected.socket) {
        settle(r, attempt.on_failure({smtp::failure_kind::connect, connected.error}), connected.error);
        settle_dane();
        co_return r;
    }
    r.address = connected.endpoint.address().to_string();
    net::tls_socket socket(std::move(*connected.socket));

    smtp::client_options options;
    options.helo_name = u.helo_name;
    options.starttls = attempt.starttls();
    options.limits = u.limits;
    smtp::client_session machine(options);
    std::deque<smtp::client_action> queue;
    const auto more = [&](std::vector<smtp::client_action> next) {
        for (auto& a : next) queue.push_back(std::move(a));
    };
    std::optional<attempt_decision> decided;  // the attempt answered other than "go on"
    std::string decided_reason;
    std::array<char, limits::probe_read_buffer> buffer;
    bool closed = false;
    while (!decided && !closed && !(queue.empty() && machine.reusable())) {
        if (queue.empty()) {
            boost::system::error_code ec;
            const std::size_t n = socket.try_read(buffer, ec);
            if (n > 0) {
                const std::string_view bytes(buffer.data(), n);
                const auto eol = bytes.find_first_of("\r\n");  // wire: the greeting's first line, as received
                if (r.banner.empty()) r.banner = log::printable(bytes.substr(0, eol), 200);
                more(machine.on_bytes(bytes));
            } else if (ec == asio::error::would_block) {
                const bool ready = co_await timed(timer, bounded(u.timeouts.greeting),
                                                  socket.wait_ready(socket.wants_write(), ec));
                if (!ready) more(machine.on_timeout());
                else if (ec) more(machine.on_closed());
            } else {
                more(machine.on_closed());
            }
            continue;
        }
        smtp::client_action action = std::move(queue.front());
        queue.pop_front();
        if (auto* s = std::get_if<smtp::client_actions::send>(&action)) {
            boost::system::error_code ec;
            const bool done = co_await timed(timer, bounded(u.timeouts.greeting), socket.write_all(s->bytes, ec));
            if (!done || ec) more(done ? machine.on_closed() : machine.on_timeout());
        } else if (std::holds_alternative<smtp::client_actions::start_tls>(action)) {
            r.starttls_offered = true;
            const auto tls = co_await start_next_hop_tls(socket, u, host, timer, bounded(u.timeouts.tls_handshake),
                                                         nullptr);
            if (tls.failure) {
                decided = attempt.on_failure(*tls.failure);
                decided_reason = tls.failure->text;
                break;
            }
            r.tls = true;
            r.protocol = tls.facts.protocol;
            r.cipher = tls.facts.cipher;
            r.chain = peer_chain(*socket.ssl());
            r.verdict = tls.verdict;
            dane_result = tls.dane;
            const auto d = attempt.on_verdict(tls.sources(), tls.reason());
            if (d.step != next_step::proceed) {
                decided = d;
                decided_reason = tls.reason();
                break;
            }
            r.would_refuse_in_testing = d.would_refuse.has_value();
            more(machine.on_tls_established());
        } else if (auto* n = std::get_if<smtp::client_actions::log_note>(&action)) {
            r.notes.push_back(log::printable(n->text, limits::log_value));
        } else if (std::holds_alternative<smtp::client_actions::close_connection>(action)) {
            closed = true;
        }
    }
    if (!r.starttls_offered && !r.tls && machine.reusable()) r.starttls_offered = machine.upstream_capabilities().starttls;
    const auto quit_bound = std::min<steady_clock::duration>(limits::goodbye, cap);
    if (!decided && machine.reusable()) {
        // Set up: the point where the relay would send MAIL.
        const auto d = attempt.on_ready(r.tls);
        r.would_refuse_in_testing = r.would_refuse_in_testing || d.would_refuse.has_value();
        std::string how = r.tls ? "TLS at level " + u.level()
                                : std::string(attempt.starttls() == smtp::upstream_tls::none
                                                  ? (attempt.plain() ? "plain text after a failed handshake"
                                                                     : "plain text (level none never uses TLS)")
                                                  : "plain text (STARTTLS not offered)");
        if (r.would_refuse_in_testing && r.verdict && !r.verdict->passed)
            how = "mode testing: would refuse: " + r.verdict->reason + "; the relay delivers anyway";
        settle(r, d, how);
    } else if (!decided) {
        // The SMTP leg failed before it was ready (banner, EHLO, STARTTLS, ...).
        const auto f = machine.failure().value_or(smtp::upstream_failure{smtp::failure_kind::closed, "upstream closed"});
        decided = attempt.on_failure(f);
        decided_reason = f.text;
    }
    if (decided) {
        if (decided->step == next_step::plain_retry)
            decided_reason += "; opportunistic: the relay reconnects in plain text";
        settle(r, *decided, decided_reason);
    }
    settle_dane();
    co_await quit_next_hop(socket, machine, timer, quit_bound);
    co_return r;
}

}  // namespace dsproxy::engine
