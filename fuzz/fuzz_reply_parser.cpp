// fuzz_reply_parser — arbitrary upstream bytes through the reply parser and
// the EHLO capability reader; a parsed reply must survive a round trip.
#include "proxy/smtp/capabilities.hpp"
#include "proxy/smtp/reply_parser.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace dsproxy::smtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string in(reinterpret_cast<const char*>(data), size);
    smtp_limits limits;
    limits.reply_lines_max = 20;
    reply_parser parser(limits);
    while (!in.empty()) {
        const auto p = parser.next(in);
        if (p.consumed > in.size()) std::abort();
        in.erase(0, p.consumed);
        if (p.state == reply_parse::status::incomplete) break;
        if (p.state == reply_parse::status::failed) {
            parser = reply_parser(limits);
            continue;
        }
        (void)parse_ehlo_reply(p.value);
        reply_parser again(limits);
        const auto wire = p.value.to_wire();
        const auto q = again.next(wire);
        if (q.state != reply_parse::status::complete || q.value.to_wire() != wire) std::abort();
    }
    return 0;
}
