// server_harness — drives a server_session in tests: collects the replies the
// client would read and the actions meant for the upstream leg.
#pragma once

#include "proxy/smtp/server_session.hpp"

#include <string>
#include <vector>

namespace dsproxy::smtp::test {

inline server_options test_options() {
    server_options o;
    o.fqdn = "mx.contoso.com";
    o.session_id = "S1";
    o.client_address = "192.0.2.7";
    o.starttls_offered = true;
    o.clock = [] { return std::chrono::system_clock::time_point{}; };
    return o;
}

inline session_policy contoso_policy() {
    session_policy p;
    p.accepts_domain = [](std::string_view d) { return d == "contoso.com"; };
    return p;
}

struct harness {
    server_session s;
    std::string replies;                 // what the client has read so far
    std::vector<server_action> actions;  // everything, in order

    explicit harness(server_options o = test_options(), session_policy p = contoso_policy())
        : s(std::move(o), std::move(p)) {
        absorb(s.start());
        replies.clear();
    }
    void absorb(std::vector<server_action> out) {
        for (auto& a : out) {
            if (auto* r = std::get_if<actions::send_reply>(&a)) replies += r->text;
            actions.push_back(std::move(a));
        }
    }
    std::string feed(std::string_view bytes) {
        absorb(s.on_bytes(bytes));
        return take();
    }
    std::string upstream(upstream_stage st, int code, std::string_view text) {
        absorb(s.on_upstream_reply(st, make_reply(code, text)));
        return take();
    }
    std::string take() {
        std::string r;
        r.swap(replies);
        return r;
    }
    template <typename T>
    std::size_t count() const {
        std::size_t n = 0;
        for (const auto& a : actions) n += std::holds_alternative<T>(a) ? 1 : 0;
        return n;
    }
    template <typename T>
    const T* last() const {
        for (auto it = actions.rbegin(); it != actions.rend(); ++it)
            if (auto* p = std::get_if<T>(&*it)) return p;
        return nullptr;
    }
    std::string relayed() const {
        std::string out;
        for (const auto& a : actions)
            if (auto* b = std::get_if<actions::upstream_bytes>(&a)) out += b->bytes;
        return out;
    }
    // EHLO, MAIL, one RCPT accepted by the upstream.
    void open_transaction(std::string_view mail_params = "") {
        feed("EHLO client.example\r\n");
        feed("MAIL FROM:<a@fabrikam.com>" + std::string(mail_params) + "\r\n");
        feed("RCPT TO:<u@contoso.com>\r\n");
        upstream(upstream_stage::mail, 250, "2.1.0 Ok");
        upstream(upstream_stage::rcpt, 250, "2.1.5 Ok");
        take();
    }
};

}  // namespace dsproxy::smtp::test
