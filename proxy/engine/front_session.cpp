// front_session — see front_session.hpp.
#include "proxy/engine/front_session.hpp"

#include "proxy/engine/engine_limits.hpp"
#include "proxy/log/logging.hpp"
#include "proxy/log/value.hpp"
#include "proxy/protocol/proxy_header.hpp"
#include "tls/certificate_info.hpp"
#include "tls/certificate_names.hpp"
#include "tls/peer_verification.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <array>
#include <type_traits>

namespace dsproxy::engine {

namespace {

// One read buffer per thread (engine_limits.hpp), never held across a suspension.
std::span<char> shared_read_buffer() {
    thread_local std::array<char, limits::read_buffer> buffer;
    return buffer;
}

// The client_tls record, collected once: protocol, cipher, the client
// certificate's names and identity, and its chain against each trust the
// session's policies use (a failure here only marks the Received header; the
// sender domain's policy judges at MAIL FROM, sender_policy.hpp).
smtp::tls_facts collect_client_tls(SSL& ssl, const net::tls_facts& facts,
                                   const std::vector<const tls::trust_store*>& trusts) {
    smtp::tls_facts t;
    t.protocol = facts.protocol;
    t.cipher = facts.cipher;
    const int version = SSL_version(&ssl);
    t.version = version == TLS1_3_VERSION   ? smtp::tls_version::tls1_3
                : version == TLS1_2_VERSION ? smtp::tls_version::tls1_2
                                            : smtp::tls_version::other;
    if (const SSL_CIPHER* c = SSL_get_current_cipher(&ssl)) t.cipher_bits = SSL_CIPHER_get_bits(c, nullptr);
    X509* leaf = SSL_get0_peer_certificate(&ssl);
    if (!leaf) return t;
    t.client_certificate_presented = true;
    const auto info = tls::describe(*leaf);
    t.subject = info.subject;
    t.issuer = info.issuer;
    t.sha256 = info.sha256;
    const auto names = tls::extract_names(*leaf);
    t.dns_names = names.names.dns_names;
    t.common_names = names.names.common_names;
    tls::verify_request request;  // the chain only: names are the sender policy's
    request.role = tls::peer_role::client;
    for (const auto* trust : trusts) {
        const auto v = tls::verify_peer(ssl, *trust, request);
        t.chains.push_back({v.passed, v.reason, std::string(v.passed ? "" : tls::to_string(v.chain))});
    }
    t.client_certificate_verified = !t.chains.empty() && t.chains.front().verified;
    return t;
}

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace

front_session::front_session(net::tls_socket client, front_settings settings, smtp::server_options options,
                             smtp::session_policy policy)
    : client_(std::move(client)),
      settings_(std::move(settings)),
      server_(std::move(options), std::move(policy)),
      timer_(client_.socket().get_executor()) {
    // Callers that know no better (the sink) get the socket's own addresses.
    if (settings_.client_endpoint == net::tcp::endpoint()) settings_.client_endpoint = client_.remote_endpoint();
    if (settings_.local_endpoint == net::tcp::endpoint()) {
        boost::system::error_code ec;
        settings_.local_endpoint = client_.socket().local_endpoint(ec);
    }
}

front_session::~front_session() = default;

void front_session::post(std::vector<smtp::server_action> actions) {
    if (pending_.empty() && pending_head_ == 0) {
        pending_ = std::move(actions);  // the usual case: no copy, no allocation
        return;
    }
    for (auto& a : actions) pending_.push_back(std::move(a));
}

void front_session::stop() {
    stopping_ = true;
    timer_.cancel();
}

asio::awaitable<void> front_session::run() {
    if (settings_.implicit_tls) {
        if (!settings_.tls) {
            warn("reason=implicit TLS listener without a certificate, closing");
            client_.close();
            co_return;
        }
        co_await start_tls();
        if (client_gone_) {
            client_.close();
            co_return;
        }
    }
    if (settings_.greeting_delay > steady_clock::duration::zero()) {
        // (Not folded into the condition above: g++ 12 miscompiles a co_await
        // inside a short-circuit operand; it crashed the session.)
        const bool quiet = co_await quiet_through_greet_pause();
        if (!quiet) {
            co_await execute_pending();
            co_await client_.shutdown();
            co_return;
        }
    }
    post(server_.start());
    while (true) {
        co_await execute_pending();
        if (server_.closed()) break;
        if (stopping_) {
            co_await say_goodbye("421 4.3.2 Service shutting down, try again later\r\n");
            post(server_.on_client_closed());
            co_await execute_pending();
            break;
        }
        if (client_gone_) {
            // The client's end is gone but the machine is not closed yet.
            post(server_.on_client_closed());
            co_await execute_pending();
            break;
        }
        co_await before_wait();
        if (pending_head_ < pending_.size()) continue;  // the hook posted events: carry them out first
        if (server_.wants_input())
            co_await read_client();
        else if (server_.awaiting())
            co_await wait_for_upstream();
        else {
            warn("reason=session has nothing to wait for in state {}, closing", smtp::to_string(server_.state()));
            break;
        }
    }
    co_await close_upstream();
    co_await client_.shutdown();
}

asio::awaitable<bool> front_session::quiet_through_greet_pause() {
    boost::system::error_code ec;
    const bool readable = co_await timed(timer_, settings_.greeting_delay, client_.wait_ready(false, ec));
    if (!readable) co_return true;  // quiet for the whole pause: a well-behaved client
    const auto buffer = shared_read_buffer();
    const std::size_t n = ec ? 0 : client_.try_read(buffer, ec);
    if (n == 0) {
        client_gone_ = true;  // closed during the pause
        co_return false;
    }
    post(server_.on_bytes(std::string_view(buffer.data(), n)));  // pre-banner: 554 and close
    co_return false;
}

asio::awaitable<void> front_session::execute_pending() {
    // Actions may post more while they run (appended behind the head); the
    // queue is released when drained, so an idle session holds none.
    // The order rule with the relay's own queue (docs/design.md §2): an
    // upstream action runs the client session's queue to its end, and what
    // it posts here is carried out after it, in the order posted, so replies
    // reach the client in the order server_session produced them.
    while (pending_head_ < pending_.size()) {
        smtp::server_action action = std::move(pending_[pending_head_++]);
        if (pending_head_ == pending_.size()) {
            std::vector<smtp::server_action>().swap(pending_);
            pending_head_ = 0;
        }
        if (auto* r = std::get_if<smtp::actions::send_reply>(&action)) {
            co_await write_client(r->text);
        } else if (std::holds_alternative<smtp::actions::start_tls>(action)) {
            co_await start_tls();
        } else if (std::holds_alternative<smtp::actions::close_connection>(action)) {
            client_gone_ = true;
        } else if (auto* n = std::get_if<smtp::actions::log_note>(&action)) {
            info("{}", log::printable(n->text, limits::log_value));
        } else {
            co_await on_upstream_action(std::move(action));
        }
    }
}

asio::awaitable<void> front_session::read_client() {
    const bool in_data =
        server_.state() == smtp::server_state::data || server_.state() == smtp::server_state::bdat;
    const auto rate = settings_.timeouts.min_data_rate;
    auto timeout = settings_.timeouts.data_block;
    if (in_data) {
        if (!in_content_) data_budget_ = settings_.timeouts.data_block;
        in_content_ = true;
        if (rate > 0) timeout = data_budget_;
    } else {
        in_content_ = false;
        const auto now = steady_clock::now();
        if (!command_deadline_) command_deadline_ = now + settings_.timeouts.command;
        timeout = std::max(*command_deadline_ - now, steady_clock::duration::zero());
    }
    const auto buffer = shared_read_buffer();
    boost::system::error_code ec;
    std::size_t n = client_.try_read(buffer, ec);
    if (n > 0) {
        // Message content: take whatever else has arrived too (never in the
        // command phase, where STARTTLS must see a read end at its line).
        while (in_data && n < buffer.size()) {
            boost::system::error_code more_ec;
            const std::size_t m = client_.try_read(buffer.subspan(n), more_ec);
            if (m == 0) break;  // would block, or EOF/error: the next read reports it
            n += m;
        }
        if (in_data && rate > 0) {
            const auto earned = std::chrono::nanoseconds(static_cast<std::int64_t>(n * 1'000'000'000ull / rate));
            data_budget_ = std::min<steady_clock::duration>(data_budget_ + earned, settings_.timeouts.data_block);
        }
        post(server_.on_bytes(std::string_view(buffer.data(), n)));
        co_return;
    }
    if (ec == asio::error::would_block) {
        const auto waited_from = steady_clock::now();
        const bool ready = co_await client_.wait_ready_within(client_.wants_write(), timer_, timeout, stopping_, ec);
        if (in_data && rate > 0)
            data_budget_ = std::max(data_budget_ - (steady_clock::now() - waited_from), steady_clock::duration::zero());
        if (!ready) {
            if (in_data && rate > 0 && !stopping_)
                info("reason=message data slower than the minimum rate of {} bytes/s", rate);
            if (!stopping_) post(server_.on_timeout());
            co_return;
        }
        if (!ec) co_return;  // readable: the next round reads
    }
    // End of stream or an error: the client is gone.
    if (ec != asio::error::eof) info("reason=client connection error: {}", ec.message());
    client_gone_ = true;
    post(server_.on_client_closed());
}

asio::awaitable<void> front_session::write_client(const std::string& text) {
    command_deadline_.reset();  // a reply ends the command it answers: the next one gets a full timeout
    if (client_gone_) co_return;
    if (settings_.metrics) settings_.metrics->reply_sent(text);
    boost::system::error_code ec;
    // Nearly always written at once; only a full socket buffer waits (bounded).
    const std::size_t now = client_.try_write(text, ec);
    bool done = true;
    if (ec == asio::error::would_block)
        done = co_await timed(timer_, settings_.timeouts.command,
                              client_.write_all(std::span<const char>(text).subspan(now), ec));
    if (!done || ec) {
        info("reason=cannot write to the client: {}", done ? ec.message() : "timeout");
        client_gone_ = true;
        post(server_.on_client_closed());
    }
}

asio::awaitable<void> front_session::start_tls() {
    if (fail_handshake()) {
        client_gone_ = true;
        client_.close();
        post(server_.on_tls_failed());
        co_return;
    }
    tls::ssl_ptr ssl = settings_.tls ? settings_.tls->new_session() : nullptr;
    if (!ssl) {
        warn("tls=in result=failed reason=no TLS context for this listener");
        client_gone_ = true;
        post(server_.on_tls_failed());
        co_return;
    }
    boost::system::error_code ec;
    std::string error;
    const bool done = co_await timed(timer_, settings_.timeouts.tls_handshake,
                                     client_.upgrade(std::move(ssl), net::tls_role::server, ec, error));
    if (settings_.metrics) settings_.metrics->tls_handshake(tls_leg::in, done && !ec, client_.facts().protocol);
    if (!done || ec) {
        info("tls=in result=failed reason={}", done ? log::printable(error) : std::string("handshake timeout"));
        client_gone_ = true;  // never write plaintext on a half-open TLS connection
        post(server_.on_tls_failed());
        co_return;
    }
    const auto facts = client_.facts();
    smtp::tls_facts smtp_facts = collect_client_tls(*client_.ssl(), facts, settings_.client_trusts);
    std::string peer = "none";
    if (smtp_facts.client_certificate_presented) {
        peer = "subject=" + log::value(smtp_facts.subject);
        if (smtp_facts.chains.empty())
            peer += " sha256=" + smtp_facts.sha256 + " chain=unchecked";
        else
            peer += " issuer=" + log::value(smtp_facts.issuer) + " sha256=" + smtp_facts.sha256 +
                    (smtp_facts.client_certificate_verified
                         ? std::string(" chain=verified")
                         : " chain=unverified reason=" + log::value(smtp_facts.chains.front().problem));
    }
    info("tls=in result=ok peer={} protocol={} cipher={} sni={} client_certificate={}",
         settings_.client_endpoint.address().to_string(), facts.protocol, facts.cipher,
         facts.sni.empty() ? "-" : log::value(facts.sni), peer);
    post(server_.on_tls_established(std::move(smtp_facts)));
}

asio::awaitable<void> front_session::say_goodbye(const std::string& text) {
    if (client_gone_) co_return;
    if (settings_.metrics) settings_.metrics->reply_sent(text);
    boost::system::error_code ec;
    // The timer was cancelled by stop(); give the goodbye a short bound of its own.
    co_await timed(timer_, limits::goodbye, client_.write_all(text, ec));
    client_gone_ = true;
}

std::optional<std::string> front_session::proxy_v2_header() {
    const auto& remote = settings_.client_endpoint;
    const auto& local = settings_.local_endpoint;
    const auto& client_tls = server_.tls();
    return protocol::encode_v2(
        {remote.address().to_string(), remote.port(), local.address().to_string(), local.port()},
        protocol::tls_info_of(client_tls ? &*client_tls : nullptr), client_tls ? client_.facts().sni : "");
}

}  // namespace dsproxy::engine
