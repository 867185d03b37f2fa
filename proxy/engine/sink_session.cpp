// sink_session — see sink_session.hpp.
#include "proxy/engine/sink_session.hpp"

#include "proxy/log/logging.hpp"

#include <charconv>
#include <cstring>

namespace dsproxy::engine {

std::optional<sink_fault> parse_sink_fault(std::string_view text, std::string& error) {
    sink_fault f;
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) {
        error = "expected STAGE=ACTION[@PROBABILITY], e.g. end-of-data=451@0.2";
        return std::nullopt;
    }
    const auto stage = text.substr(0, eq);
    std::string_view rest = text.substr(eq + 1);
    if (stage == "mail") f.stage = smtp::upstream_stage::mail;
    else if (stage == "rcpt") f.stage = smtp::upstream_stage::rcpt;
    else if (stage == "data") f.stage = smtp::upstream_stage::data;
    else if (stage == "end-of-data") f.stage = smtp::upstream_stage::end_of_data;
    else if (stage == "tls") f.at_handshake = true;
    else {
        error = "unknown stage '" + std::string(stage) + "' (mail, rcpt, data, end-of-data, tls)";
        return std::nullopt;
    }
    if (const auto at = rest.find('@'); at != std::string_view::npos) {
        const std::string p(rest.substr(at + 1));
        char* end = nullptr;
        f.probability = std::strtod(p.c_str(), &end);
        if (end == p.c_str() || *end != '\0' || f.probability < 0 || f.probability > 1) {
            error = "probability must be between 0 and 1";
            return std::nullopt;
        }
        rest = rest.substr(0, at);
    }
    if (f.at_handshake && rest != "close") {
        error = "the only action at tls is close";
        return std::nullopt;
    }
    if (rest == "close") f.what = sink_fault::action::close;
    else if (rest == "stall") f.what = sink_fault::action::stall;
    else {
        const auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), f.code);
        if (ec != std::errc() || p != rest.data() + rest.size() || f.code < 400 || f.code > 599) {
            error = "action must be a 4xx/5xx code, close or stall";
            return std::nullopt;
        }
    }
    return f;
}

sink_session::sink_session(net::tls_socket client, front_settings settings, smtp::server_options options,
                           sink_settings sink)
    : front_session(std::move(client), std::move(settings), std::move(options),
                    smtp::session_policy{[](std::string_view) { return true; }, nullptr, nullptr}),
      sink_(sink),
      message_(std::make_unique<net::maildir>(sink.store->dir())) {
    message_->set_fsync(sink_.fsync);
}

bool sink_session::happens(const sink_fault& f) {
    if (f.probability >= 1.0) return true;
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    return sink_.random && coin(*sink_.random) < f.probability;
}

const sink_fault* sink_session::fault_for(smtp::upstream_stage stage) {
    for (const auto& f : sink_.faults)
        if (!f.at_handshake && f.stage == stage && happens(f)) return &f;
    return nullptr;
}

bool sink_session::fail_handshake() {
    for (const auto& f : sink_.faults)
        if (f.at_handshake && happens(f)) {
            info("sink fault at tls: close");
            return true;
        }
    return false;
}

void sink_session::append(std::string_view bytes) {
    if (!in_message_ || !write_error_.empty()) return;
    size_ += bytes.size();
    std::string plain;
    if (unstuff_) {
        // DATA wire form without the final ".": a dot at the start of a line
        // is always a stuffing dot (RFC 5321 §4.5.2).
        // Spans between stuffing dots are copied whole (memchr for each LF).
        plain.reserve(bytes.size());
        std::size_t pos = 0, span = 0;
        while (pos < bytes.size()) {
            if (at_line_start_ && bytes[pos] == '.') {
                plain.append(bytes.data() + span, pos - span);
                span = ++pos;
            }
            at_line_start_ = false;
            const void* lf = std::memchr(bytes.data() + pos, '\n', bytes.size() - pos);
            if (!lf) break;
            pos = static_cast<std::size_t>(static_cast<const char*>(lf) - bytes.data()) + 1;
            at_line_start_ = true;
        }
        plain.append(bytes.data() + span, bytes.size() - span);
        bytes = plain;
    }
    if (!message_->append(bytes, write_error_)) warn("reason=sink cannot write: {}", write_error_);
}

asio::awaitable<void> sink_session::on_upstream_action(smtp::server_action action) {
    using namespace smtp::actions;
    if (std::holds_alternative<upstream_mail>(action)) {
        in_message_ = message_->begin(write_error_);
        if (!in_message_) warn("reason=sink cannot store: {}", write_error_);
        size_ = 0;
    } else if (auto* d = std::get_if<upstream_data>(&action)) {
        unstuff_ = d->mode == smtp::data_mode::data;
        at_line_start_ = true;
    } else if (auto* b = std::get_if<upstream_bytes>(&action)) {
        append(b->bytes);
    } else if (std::holds_alternative<upstream_abort>(action)) {
        message_->abort();
        in_message_ = false;
    }
    co_return;  // upstream_rcpt, upstream_bdat, end of data: answered in wait_for_upstream
}

asio::awaitable<void> sink_session::wait_for_upstream() {
    const auto stage = *server().awaiting();
    if (const sink_fault* f = fault_for(stage)) {
        info("sink fault at {}: {}", smtp::to_string(stage),
             f->what == sink_fault::action::close   ? std::string("close")
             : f->what == sink_fault::action::stall ? std::string("stall")
                                                    : std::to_string(f->code));
        if (f->what != sink_fault::action::reply) {
            message_->abort();
            in_message_ = false;
            if (f->what == sink_fault::action::stall) {
                // Never answer: wait for the client to give up (bounded by the command timeout).
                // A steady_timer's default expiry is already in the past: set it.
                asio::steady_timer forever(co_await asio::this_coro::executor,
                                           std::chrono::steady_clock::time_point::max());
                co_await timed(timer(), settings().timeouts.command,
                               forever.async_wait(asio::as_tuple(asio::use_awaitable)));
            }
            client().close();
            post(server().on_client_closed());
            co_return;
        }
        if (stage == smtp::upstream_stage::end_of_data || stage == smtp::upstream_stage::mail) {
            message_->abort();
            in_message_ = false;
        }
        post(server().on_upstream_reply(stage, smtp::make_reply(f->code, f->code < 500 ? "4.3.0 Injected temporary failure"
                                                                                      : "5.3.0 Injected permanent failure")));
        co_return;
    }
    switch (stage) {
        case smtp::upstream_stage::mail:
            post(server().on_upstream_reply(stage, smtp::make_reply(250, "2.1.0 Ok")));
            break;
        case smtp::upstream_stage::rcpt:
            post(server().on_upstream_reply(stage, smtp::make_reply(250, "2.1.5 Ok")));
            break;
        case smtp::upstream_stage::data:
            post(server().on_upstream_reply(stage, smtp::make_reply(354, "End data with <CR><LF>.<CR><LF>")));
            break;
        case smtp::upstream_stage::bdat_chunk:
            post(server().on_upstream_reply(stage, smtp::make_reply(250, "2.0.0 Chunk accepted")));
            break;
        case smtp::upstream_stage::end_of_data: {
            std::string name;
            if (!in_message_ || !write_error_.empty() || !message_->commit(name, write_error_)) {
                message_->abort();
                in_message_ = false;
                post(server().on_upstream_reply(stage, smtp::make_reply(451, "4.3.0 Cannot store the message")));
                break;
            }
            in_message_ = false;
            info("sink stored {} size={}", name, size_);
            post(server().on_upstream_reply(stage, smtp::make_reply(250, "2.0.0 Ok: queued as " + name)));
            break;
        }
    }
}

asio::awaitable<void> sink_session::close_upstream() {
    message_->abort();
    co_return;
}

}  // namespace dsproxy::engine
