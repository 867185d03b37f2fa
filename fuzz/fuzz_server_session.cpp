// fuzz_server_session — the client-facing state machine fed arbitrary client
// bytes interleaved with arbitrary upstream events, TLS events, timeouts and
// disconnects. Checks, besides the sanitizers: nothing is sent after close;
// end of data never reaches the upstream after an abort or without DATA.
#include "proxy/smtp/server_session.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>

using namespace dsproxy::smtp;
namespace a = dsproxy::smtp::actions;

namespace {

struct checker {
    bool closed = false;
    bool aborted = false;   // since the last upstream_mail
    bool data_sent = false;
    void check(const std::vector<server_action>& out) {
        for (const auto& act : out) {
            if (closed && std::holds_alternative<a::send_reply>(act)) std::abort();
            if (std::holds_alternative<a::close_connection>(act)) closed = true;
            if (std::holds_alternative<a::upstream_mail>(act)) aborted = data_sent = false;
            if (std::holds_alternative<a::upstream_abort>(act)) aborted = true;
            if (std::holds_alternative<a::upstream_data>(act)) data_sent = true;
            if (std::holds_alternative<a::upstream_end_of_data>(act) && (aborted || !data_sent)) std::abort();
            if (auto* r = std::get_if<a::send_reply>(&act)) {
                if (r->text.size() < 5 || r->text.substr(r->text.size() - 2) != "\r\n") std::abort();
            }
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    server_options o;
    o.fqdn = "mx.contoso.com";
    o.starttls_offered = in.ConsumeBool();
    o.data_bare_newline = in.ConsumeBool() ? bare_newline_policy::normalize : bare_newline_policy::reject;
    o.limits.bad_commands_max = in.ConsumeIntegralInRange<unsigned>(1, 30);
    o.limits.recipients_max = in.ConsumeIntegralInRange<std::size_t>(1, 5);
    o.limits.message_size_max = in.ConsumeIntegralInRange<std::uint64_t>(0, 4000);
    o.limits.text_line_max = in.ConsumeIntegralInRange<std::size_t>(3, 1000);
    o.limits.pending_input_max = in.ConsumeIntegralInRange<std::size_t>(16, 4096);
    o.clock = [] { return std::chrono::system_clock::time_point{}; };
    session_policy p;
    p.accepts_domain = [](std::string_view d) { return d == "contoso.com"; };
    server_session s(o, p);
    checker c;
    if (in.ConsumeIntegral<std::uint8_t>() < 16) c.check(s.on_bytes("EHLO early\r\n"));
    c.check(s.start());
    const int codes[] = {250, 354, 451, 550, 552, 221};
    while (in.remaining_bytes() > 0) {
        switch (in.ConsumeIntegralInRange(0, 9)) {
        case 5:
            if (auto st = s.awaiting()) {
                int code = codes[in.ConsumeIntegralInRange(0, 5)];
                if (*st == upstream_stage::data && in.ConsumeBool()) code = 354;
                c.check(s.on_upstream_reply(*st, make_reply(code, "2.0.0 fuzz")));
            } else {
                c.check(s.on_upstream_reply(static_cast<upstream_stage>(in.ConsumeIntegralInRange(0, 4)),
                                            make_reply(250, "x")));
            }
            break;
        case 6:
            c.check(s.on_upstream_failed(
                s.awaiting().value_or(static_cast<upstream_stage>(in.ConsumeIntegralInRange(0, 4))), "fuzz"));
            break;
        case 7:
            if (in.ConsumeBool()) c.check(s.on_tls_established({"TLSv1.3", "X", 128, in.ConsumeBool(), false}));
            else if (in.ConsumeIntegral<std::uint8_t>() == 0) c.check(s.on_tls_failed());
            break;
        case 8:
            if (in.ConsumeIntegral<std::uint8_t>() == 0) c.check(s.on_timeout());
            break;
        case 9:
            if (in.ConsumeIntegral<std::uint8_t>() == 0) c.check(s.on_client_closed());
            break;
        default: {
            const auto bytes = in.ConsumeRandomLengthString(512);
            c.check(s.on_bytes(bytes));
        }
        }
    }
    c.check(s.on_client_closed());
    return 0;
}
