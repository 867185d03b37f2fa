// probe_session — see probe_session.hpp.
#include "proxy/engine/probe_session.hpp"

#include "proxy/engine/timed.hpp"
#include "proxy/log/logging.hpp"
#include "tls/certificate_info.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <deque>

namespace dsproxy::engine {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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

}  // namespace

asio::awaitable<probe_result> probe_host(const upstream_settings& u, const upstream_host& host,
                                         std::chrono::steady_clock::duration cap) {
    probe_result r;
    const auto bounded = [cap](steady_clock::duration d) { return std::min(d, cap); };
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor);

    std::vector<net::tcp::endpoint> endpoints;
    for (const auto& a : host.addresses) {
        boost::system::error_code aec;
        const auto address = asio::ip::make_address(a, aec);
        if (!aec) endpoints.emplace_back(address, host.port);
    }
    if (endpoints.empty()) {
        r.reason = "no address to connect to";
        co_return r;
    }
    net::tcp::socket tcp(executor);
    auto connected = co_await timed(timer, bounded(u.timeouts.connect), asio::async_connect(tcp, endpoints, use_tuple));
    if (!connected) {
        r.reason = "connect timed out";
        co_return r;
    }
    if (auto [cec, ep] = *connected; cec) {
        r.reason = "connect failed: " + cec.message();
        co_return r;
    } else {
        r.address = ep.address().to_string();
    }
    net::tls_socket socket(std::move(tcp));

    smtp::client_options options;
    options.helo_name = u.helo_name;
    options.starttls = u.starttls;
    options.limits = u.limits;
    smtp::client_session machine(options);
    std::deque<smtp::client_action> queue;
    const auto more = [&](std::vector<smtp::client_action> next) {
        for (auto& a : next) queue.push_back(std::move(a));
    };
    std::optional<std::string> failure;  // the machine gave up (its last note says why)
    std::optional<std::string> handshake_error;
    std::array<char, 16 * 1024> buffer;
    bool closed = false;
    while (!closed && !(queue.empty() && machine.reusable())) {
        if (queue.empty()) {
            boost::system::error_code ec;
            const std::size_t n = socket.try_read(buffer, ec);
            if (n > 0) {
                const std::string_view bytes(buffer.data(), n);
                if (r.banner.empty()) r.banner = log::printable(bytes.substr(0, bytes.find("\r\n")), 200);
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
            std::string error;
            tls::ssl_ptr ssl = u.tls ? u.tls->new_session(host.host, u.client_certificate.get(), error) : nullptr;
            if (!ssl) {
                handshake_error = u.tls ? "handshake setup failed: " + error : "no TLS client context";
                break;
            }
            boost::system::error_code ec;
            const bool done = co_await timed(timer, bounded(u.timeouts.tls_handshake),
                                             socket.upgrade(std::move(ssl), net::tls_role::client, ec, error));
            if (!done || ec) {
                handshake_error = "handshake failed: " + (done ? error : std::string("timeout"));
                break;
            }
            r.tls = true;
            const auto facts = socket.facts();
            r.protocol = facts.protocol;
            r.cipher = facts.cipher;
            r.chain = peer_chain(*socket.ssl());
            r.verdict = judge_upstream_certificate(*socket.ssl(), u, host.host);
            more(machine.on_tls_established());
        } else if (auto* n = std::get_if<smtp::client_actions::log_note>(&action)) {
            std::string text = n->text.starts_with("reason=") ? n->text.substr(7) : n->text;
            r.notes.push_back(log::printable(text, 1024));
            failure = r.notes.back();
        } else if (std::holds_alternative<smtp::client_actions::close_connection>(action)) {
            closed = true;
        }
    }
    if (!r.starttls_offered && !r.tls && machine.reusable()) r.starttls_offered = machine.upstream_capabilities().starttls;
    if (machine.reusable()) {
        failure.reset();  // a note on the way (e.g. STARTTLS refused, going on in plain text) is no failure
        for (auto& a : machine.quit())
            if (auto* s = std::get_if<smtp::client_actions::send>(&a)) {
                boost::system::error_code ec;
                co_await timed(timer, std::min<steady_clock::duration>(std::chrono::seconds(5), cap),
                               socket.write_all(s->bytes, ec));
            }
    }
    co_await timed(timer, std::min<steady_clock::duration>(std::chrono::seconds(5), cap), socket.shutdown());

    // The relay's decisions (relay_session::run_client and upstream_tls), in order.
    if (handshake_error) {
        if (u.starttls == smtp::upstream_tls::opportunistic) {
            r.outcome = probe_outcome::passed;
            r.reason = *handshake_error + "; opportunistic: the relay reconnects and delivers in plain text";
        } else {
            r.outcome = probe_outcome::refused;
            r.reason = *handshake_error;
        }
    } else if (!r.tls && failure) {
        const bool policy = u.starttls == smtp::upstream_tls::required && failure->find("STARTTLS") != std::string::npos;
        r.outcome = policy ? probe_outcome::refused : probe_outcome::unreachable;
        r.reason = *failure;
    } else if (r.verdict && !r.verdict->passed) {
        if (u.enforce) {
            r.outcome = probe_outcome::refused;
            r.reason = r.verdict->reason;
        } else {
            r.outcome = probe_outcome::passed;
            r.would_refuse_in_testing = true;
            r.reason = "mode testing: would refuse: " + r.verdict->reason + "; the relay delivers anyway";
        }
    } else if (failure) {
        // TLS was fine but the session broke before it was ready (EHLO after TLS).
        r.outcome = probe_outcome::unreachable;
        r.reason = *failure;
    } else {
        r.outcome = probe_outcome::passed;
        r.reason = r.tls ? "TLS at level " + u.level
                         : std::string(u.starttls == smtp::upstream_tls::none ? "plain text (level none never uses TLS)"
                                                                               : "plain text (STARTTLS not offered)");
    }
    co_return r;
}

}  // namespace dsproxy::engine
