// fuzz_data_reader — message content both ways to the upstream (docs/design.md §2, the
// SMTP smuggling defence of issue 16), under both bare-newline policies:
// DATA through data_reader, and BDAT chunks converted to DATA by dot_stuffer
// (with newline_scanner judging them, as server_session does).
//
// Input: a setup byte (bit 0: normalize, else reject; bit 1: BDAT, else
// DATA; bit 2: small line and size limits), a byte giving the read sizes,
// then the bytes the client sends (the DATA wire after the 354, or the BDAT
// content) cut into reads of those sizes. DSPROXY_FUZZ_POLICY=reject or
// =normalize fixes the policy whatever bit 0 says (one run per policy).
// The property, checked against tests/smtp/message_model.hpp (a plain
// reading of RFC 5321 §4.5.2, not this code): one message in, one message
// out, byte for byte the normalised body —
//   - DATA: the reader ends exactly where a strict reader ends (or, with no
//     end in the input, consumes it all); what it has relayed of a message
//     not (yet) ended or refused holds no end of data for a next hop, strict
//     or lax; what it
//     relays plus our ".\r\n" reads, strictly and laxly alike, as one message
//     whose content is the normalised content; bare LF / CR and the longest
//     line are found exactly, and refusal follows them;
//   - BDAT: the stream is one message whose content is the normalised
//     content with a final CRLF, and the scanner finds bare LF / CR exactly.
#include "proxy/smtp/data_reader.hpp"
#include "proxy/smtp/message_content.hpp"
#include "tests/smtp/message_model.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace dsproxy::smtp;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

// No end of data yet in what a next hop has been sent so far.
bool no_end_yet(const std::string& relayed) {
    return !model::read_data(relayed) && !model::read_data(model::normalise(relayed));
}

void data(std::string_view wire, std::size_t step, bare_newline_policy policy, const smtp_limits& limits) {
    data_reader r(limits, policy);
    std::string relayed;
    std::size_t consumed = 0;
    bool end = false;
    for (std::size_t at = 0; at < wire.size() && !end;) {
        const auto piece = wire.substr(at, step);
        const auto res = r.feed(piece, relayed);
        check(res.consumed <= piece.size() && (res.end || res.consumed == piece.size()));
        consumed += res.consumed;
        end = res.end;
        at += piece.size();
    }
    const auto m = model::read_data(wire);
    check(end == m.has_value());
    if (!m) {
        check(consumed == wire.size());
        check(no_end_yet(relayed));
        return;
    }
    check(consumed == m->end);
    const auto f = r.findings();
    check((f.bare_lf || f.bare_cr) == !model::only_crlf(m->content));
    check(f.line_too_long == (model::longest_line(m->content) + 2 > limits.text_line_max));
    check(f.too_big == (m->end - 3 > limits.message_size_max));
    check(r.refused() == (f.too_big || f.line_too_long ||
                          (policy == bare_newline_policy::reject && (f.bare_lf || f.bare_cr))));
    if (r.refused()) {
        check(no_end_yet(relayed));
        return;
    }
    const auto out = model::read_one_message(relayed + ".\r\n");
    check(out.has_value() && *out == model::normalise(m->content));
}

void bdat(std::string_view content, std::size_t step, bare_newline_policy policy) {
    newline_scanner scanner;
    dot_stuffer stuffer;
    std::string stream;
    for (std::size_t at = 0; at < content.size(); at += step) {
        const auto piece = content.substr(at, step);
        scanner.feed(piece);
        stuffer.feed(piece, stream);
    }
    scanner.finish();
    stuffer.finish(stream);
    check((scanner.bare_lf() || scanner.bare_cr()) == !model::only_crlf(content));
    if (policy == bare_newline_policy::reject && (scanner.bare_lf() || scanner.bare_cr())) return;  // refused
    std::string expected = model::normalise(content);
    if (!expected.empty() && !expected.ends_with("\r\n")) expected += "\r\n";
    const auto out = model::read_one_message(stream);
    check(out.has_value() && *out == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t setup = bytes[0];
    const std::size_t step = 1 + bytes[1];
    const std::string_view wire(reinterpret_cast<const char*>(bytes) + 2, size - 2);
    static const char* forced = std::getenv("DSPROXY_FUZZ_POLICY");
    const bool normalize = forced ? std::string_view(forced) == "normalize" : (setup & 1) != 0;
    const auto policy = normalize ? bare_newline_policy::normalize : bare_newline_policy::reject;
    smtp_limits limits;
    if (setup & 4) {
        limits.text_line_max = 3 + (setup >> 3);
        limits.message_size_max = 8u * (setup >> 3);
    }
    if (setup & 2) bdat(wire, step, policy);
    else data(wire, step, policy, limits);
    return 0;
}
