// fuzz_client_session — the upstream leg fed arbitrary upstream bytes
// interleaved with arbitrary requests from the server side. Checks: nothing
// is sent after close, and start_tls is never followed by a send before the
// handshake result.
#include "proxy/smtp/client_session.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>

using namespace dsproxy::smtp;
namespace ca = dsproxy::smtp::client_actions;

namespace {
struct checker {
    bool closed = false;
    bool handshaking = false;
    void check(const std::vector<client_action>& out) {
        for (const auto& act : out) {
            if ((closed || handshaking) && std::holds_alternative<ca::send>(act)) std::abort();
            if (std::holds_alternative<ca::close_connection>(act)) closed = true;
            if (std::holds_alternative<ca::start_tls>(act)) handshaking = true;
        }
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    client_options o;
    o.starttls = static_cast<upstream_tls>(in.ConsumeIntegralInRange(0, 2));
    if (in.ConsumeBool()) o.xclient = xclient_facts{"192.0.2.1", "c.example", "h e", "ESMTP"};
    o.limits.reply_lines_max = 20;
    o.limits.pending_input_max = 2048;
    client_session c(o);
    checker k;
    const path rp = parse_path("<a@b.example>", path_kind::reverse).value;
    while (in.remaining_bytes() > 0) {
        const int op = in.ConsumeIntegralInRange(0, 12);
        switch (op) {
        case 0: {
            mail_parameters mp;
            mp.smtputf8 = in.ConsumeBool();
            mp.body = static_cast<body_type>(in.ConsumeIntegralInRange(0, 3));
            if (in.ConsumeBool()) mp.size = in.ConsumeIntegral<std::uint32_t>();
            k.check(c.mail(rp, mp));
            break;
        }
        case 1: k.check(c.rcpt(rp, {})); break;
        case 2: k.check(c.begin_data(in.ConsumeBool() ? data_mode::bdat : data_mode::data)); break;
        case 3: k.check(c.bdat(in.ConsumeIntegralInRange<std::uint64_t>(0, 64), in.ConsumeBool())); break;
        case 4: k.check(c.bytes(in.ConsumeRandomLengthString(64))); break;
        case 5: k.check(c.end_of_data()); break;
        case 6: k.check(c.abort()); break;
        case 7:
            if (in.ConsumeIntegral<std::uint8_t>() == 0) k.check(c.quit());
            break;
        case 8:
            if (k.handshaking) {
                k.handshaking = false;
                k.check(in.ConsumeBool() ? c.on_tls_established() : c.on_tls_failed());
            }
            break;
        case 9:
            if (in.ConsumeIntegral<std::uint8_t>() == 0) k.check(c.on_closed());
            break;
        default: {
            const auto bytes = in.ConsumeRandomLengthString(512);
            k.check(c.on_bytes(bytes));
        }
        }
    }
    return 0;
}
