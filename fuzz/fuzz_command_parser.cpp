// fuzz_command_parser — arbitrary bytes through the line framer and the
// command parser, as a client's command stream would arrive.
#include "proxy/smtp/command_parser.hpp"
#include "proxy/smtp/line_framer.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    dsproxy::smtp::line_framer framer(512);
    while (!in.empty()) {
        const auto f = framer.next(in);
        if (f.consumed == 0) break;
        if (f.consumed > in.size()) std::abort();
        if (f.status == dsproxy::smtp::frame_status::line || f.status == dsproxy::smtp::frame_status::bare_lf) {
            if (f.text.size() + 1 > 512) std::abort();
            const auto c = dsproxy::smtp::parse_command(f.text);
            if (c.args.size() > f.text.size()) std::abort();
        }
        in.remove_prefix(f.consumed);
    }
    return 0;
}
