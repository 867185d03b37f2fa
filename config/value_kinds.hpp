// value_kinds — every kind of scalar the configuration accepts, by name.
//
// Owns: the pairing of each parser (quantity, address, enums, ...) with the
// phrase an error uses when a mapping or list stands where the scalar should
// be, and the range of each bounded count.
// Must not: hold defaults (model.hpp) or section layout (the section readers).
#pragma once

#include "config/address.hpp"
#include "config/certificate_ref.hpp"
#include "config/enums.hpp"
#include "config/quantity.hpp"
#include "config/yaml_reader.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::config {

std::optional<bool> parse_bool(std::string_view text, std::string* error);
std::optional<std::string> parse_domain_name(std::string_view text, std::string* error);
std::optional<std::string> parse_text(std::string_view text, std::string* error);
// An IP literal with an optional port (53): a host name would need DNS to find DNS.
std::optional<host_port> parse_dns_server(std::string_view text, std::string* error);
// A user or group name as useradd(8) accepts it: letters, digits, `_`, `-`,
// `.`, not starting with `-`, at most 32 characters. Whether it exists is
// checked by `dsproxy run`, not here (the loader does no lookups).
std::optional<std::string> parse_account_name(std::string_view text, std::string* error);
// `auto` (0: one per core) or a number of I/O threads up to max_io_threads.
std::optional<std::uint64_t> parse_io_threads(std::string_view text, std::string* error);

// Upper bound of counts: far above any sane setting, low enough that
// arithmetic on it cannot overflow.
inline constexpr std::uint64_t max_count = 1'000'000'000;
// I/O threads: far more than the cores of any machine dsproxy runs on; each
// costs a stack, a DNS resolver (a libunbound context and its worker
// thread) and an epoll instance.
inline constexpr std::uint64_t max_io_threads = 256;
// RFC 5321 §4.5.3.1.4 / §4.5.3.1.6: a server must accept at least these.
inline constexpr std::uint64_t min_command_line_length = 512;
inline constexpr std::uint64_t min_text_line_length = 1000;
// Beyond this a "line" is a buffer-exhaustion attempt, not text.
inline constexpr std::uint64_t max_line_length = 1 << 20;
// RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with CRLF; a
// client must take at least that.
inline constexpr std::uint64_t min_reply_line_length = 512;
// Lines of one reply: an EHLO reply has about a dozen; the product with
// reply_line_length bounds what one reply may hold in memory.
inline constexpr std::uint64_t max_reply_lines = 10'000;
// Pipelined input is held after one read of the session's 64 KiB buffer, so
// a bound below that could refuse a single well-formed read.
inline constexpr std::uint64_t min_pipelined_input = 64 << 10;
inline constexpr std::uint64_t max_pipelined_input = 64 << 20;

inline constexpr value_kind<bool> a_bool{[] { return std::string("`true` or `false`"); }, parse_bool};
inline constexpr value_kind<std::string> a_domain_name{[] { return std::string("a domain name"); },
                                                       parse_domain_name};
inline constexpr value_kind<std::string> a_text{[] { return std::string("a line of text"); }, parse_text};
inline constexpr value_kind<std::string> an_account_name{[] { return std::string("a user or group name"); },
                                                         parse_account_name};
inline constexpr value_kind<std::uint64_t> an_io_thread_count{
    [] { return std::string("`auto` or a number of threads"); }, parse_io_threads};
inline constexpr value_kind<duration> a_duration{[] { return std::string("a duration such as `30s` or `5m`"); },
                                                 [](std::string_view t, std::string* e) { return parse_duration(t, e); }};
// A timeout of zero would fire at once: refused.
inline constexpr value_kind<duration> a_timeout{
    [] { return std::string("a duration such as `30s` or `5m`"); },
    [](std::string_view t, std::string* e) -> std::optional<duration> {
        auto d = parse_duration(t, e);
        if (d && d->count() == 0) {
            if (e) *e = "a timeout must be longer than 0";
            return std::nullopt;
        }
        return d;
    }};
inline constexpr value_kind<std::uint64_t> a_size{
    [] { return std::string("a size such as `50MiB`"); },
    [](std::string_view t, std::string* e) { return parse_size(t, e); }};
// A whole number from 1 to `max`: zero would mean "nothing" (no connection,
// no recipient, no prefix), so it is refused with its own message.
inline std::optional<std::uint64_t> parse_positive_count(std::string_view t, std::uint64_t max, std::string* e) {
    auto n = parse_count(t, max, e);
    if (n && *n == 0) {
        if (e) *e = "must be at least 1";
        return std::nullopt;
    }
    return n;
}
inline constexpr value_kind<std::uint64_t> a_count{
    [] { return std::string("a whole number"); },
    [](std::string_view t, std::string* e) { return parse_positive_count(t, max_count, e); }};
// A rate per minute; 0 is "no limit".
inline constexpr value_kind<std::uint64_t> a_rate_per_minute{
    [] { return std::string("a number per minute (0: no limit)"); },
    [](std::string_view t, std::string* e) { return parse_count(t, 1000000, e); }};
inline constexpr value_kind<std::uint64_t> an_ipv4_prefix{
    [] { return std::string("a prefix length from 1 to 32"); },
    [](std::string_view t, std::string* e) { return parse_positive_count(t, 32, e); }};
inline constexpr value_kind<std::uint64_t> an_ipv6_prefix{
    [] { return std::string("a prefix length from 1 to 128"); },
    [](std::string_view t, std::string* e) { return parse_positive_count(t, 128, e); }};
// A line length in octets from `min` (what RFC 5321 `section` says a peer
// must accept) up to max_line_length.
inline std::optional<std::uint64_t> parse_line_length(std::string_view t, std::uint64_t min, std::string_view section,
                                                      std::string* e) {
    auto n = parse_count(t, max_line_length, e);
    if (n && *n < min) {
        if (e) *e = "must be at least " + std::to_string(min) + " octets (RFC 5321 " + std::string(section) + "), got " +
                    std::string(t);
        return std::nullopt;
    }
    return n;
}
inline constexpr value_kind<std::uint64_t> a_command_line_length{
    [] { return std::string("a number of octets"); },
    [](std::string_view t, std::string* e) { return parse_line_length(t, min_command_line_length, "§4.5.3.1.4", e); }};
inline constexpr value_kind<std::uint64_t> a_text_line_length{
    [] { return std::string("a number of octets"); },
    [](std::string_view t, std::string* e) { return parse_line_length(t, min_text_line_length, "§4.5.3.1.6", e); }};
inline constexpr value_kind<std::uint64_t> a_reply_line_length{
    [] { return std::string("a number of octets"); },
    [](std::string_view t, std::string* e) { return parse_line_length(t, min_reply_line_length, "§4.5.3.1.5", e); }};
inline constexpr value_kind<std::uint64_t> a_reply_line_count{
    [] { return std::string("a number of lines from 1 to 10000"); },
    [](std::string_view t, std::string* e) -> std::optional<std::uint64_t> {
        auto n = parse_count(t, max_reply_lines, e);
        if (n && *n == 0) {
            if (e) *e = "must be at least 1";
            return std::nullopt;
        }
        return n;
    }};
inline constexpr value_kind<std::uint64_t> a_pipelined_input_size{
    [] { return std::string("a size from `64KiB` to `64MiB`"); },
    [](std::string_view t, std::string* e) -> std::optional<std::uint64_t> {
        auto n = parse_size(t, e);
        if (n && (*n < min_pipelined_input || *n > max_pipelined_input)) {
            if (e) *e = "must be from 64KiB (one read) to 64MiB, got " + std::string(t);
            return std::nullopt;
        }
        return n;
    }};
// TLS 1.3 session tickets per handshake: 0 (none) to 8 (OpenSSL sends 2 by default).
inline constexpr value_kind<std::uint64_t> a_ticket_count{
    [] { return std::string("a number of tickets from 0 to 8"); },
    [](std::string_view t, std::string* e) { return parse_count(t, 8, e); }};
// TCP/UDP ports: 1 to 65535.
inline constexpr value_kind<std::uint16_t> a_port{
    [] { return std::string("a port number"); },
    [](std::string_view t, std::string* e) -> std::optional<std::uint16_t> {
        auto n = parse_count(t, 65535, e);
        if (n && *n == 0) {
            if (e) *e = "a port must be a number from 1 to 65535";
            return std::nullopt;
        }
        if (n) return static_cast<std::uint16_t>(*n);
        return std::nullopt;
    }};
// Listen addresses: IP literal and port, both required.
inline constexpr value_kind<host_port> a_listen_address{
    [] { return std::string("an address such as `127.0.0.1:2525` or `[::1]:2525`"); },
    [](std::string_view t, std::string* e) { return parse_host_port(t, {false, std::nullopt}, e); }};
// Next hops: IP literal or host name; port 25 when not written.
inline constexpr value_kind<host_port> a_next_hop{
    [] { return std::string("a host such as `mx.contoso.com:25` or `[2001:db8::1]:25`"); },
    [](std::string_view t, std::string* e) { return parse_host_port(t, {true, std::uint16_t{25}}, e); }};
inline constexpr value_kind<host_port> a_dns_server{
    [] { return std::string("a DNS server address such as `127.0.0.1`, `127.0.0.1:5353` or `[::1]`"); },
    parse_dns_server};
inline constexpr value_kind<cidr> a_cidr{[] { return std::string("a network such as `10.0.0.0/8`"); },
                                         [](std::string_view t, std::string* e) { return parse_cidr(t, e); }};
inline constexpr value_kind<certificate_ref> a_thumbprint{
    [] { return std::string("a certificate thumbprint"); },
    [](std::string_view t, std::string* e) { return parse_thumbprint(t, e); }};
inline constexpr value_kind<certificate_ref> a_certificate_ref{
    [] { return std::string("a certificate thumbprint or host name"); },
    [](std::string_view t, std::string* e) { return parse_certificate_ref(t, e); }};

template <class E>
inline constexpr value_kind<E> an_enum{[] {
                                           std::array<std::string_view, enum_table<E>::entries.size()> names{};
                                           for (std::size_t i = 0; i < names.size(); ++i)
                                               names[i] = enum_table<E>::entries[i].name;
                                           return "one of " + describe_choices(names);
                                       },
                                       [](std::string_view t, std::string* e) { return parse_enum<E>(t, e); }};

}  // namespace dsproxy::config
