// fuzz_address — the MAIL/RCPT argument grammar: paths and ESMTP parameters.
// Whatever parses must render to text that parses to the same thing.
#include "proxy/smtp/address.hpp"
#include "proxy/smtp/esmtp_params.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace dsproxy::smtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    for (const auto kind : {path_kind::reverse, path_kind::forward}) {
        const auto p = parse_path(in, kind);
        if (p.error != path_error::none) continue;
        const auto wire = p.value.to_wire();
        const auto again = parse_path(wire, kind);
        if (again.error != path_error::none || again.value.to_wire() != wire || !again.rest.empty()) std::abort();
        (void)has_routing_operators(p.value.box);
        mail_parameters mp;
        if (parse_mail_parameters(p.rest, mp).error == param_error::none) {
            mail_parameters back;
            if (parse_mail_parameters(mp.to_wire(), back).error != param_error::none) std::abort();
            if (back.to_wire() != mp.to_wire()) std::abort();
        }
        rcpt_parameters rp;
        if (parse_rcpt_parameters(p.rest, rp).error == param_error::none) {
            rcpt_parameters back;
            if (parse_rcpt_parameters(rp.to_wire(), back).error != param_error::none) std::abort();
        }
    }
    if (!valid_xtext(encode_xtext(in))) std::abort();
    return 0;
}
