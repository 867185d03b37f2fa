// quantity — typed durations and sizes as an administrator writes them.
//
// Owns: parsing and printing `30s`, `5m`, `1h`, `500ms`, `2d` (durations) and
// `10MiB`, `50MB`, `1000` (sizes in bytes), plus plain counts.
// Must not: know about YAML or where a value came from (see yaml_reader).
//
// Every parser returns nullopt and a sentence saying what was expected when
// the text is not a valid value; overflow is an error, never a wrap-around.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::config {

using duration = std::chrono::milliseconds;

// `<digits><unit>` with unit ms, s, m, h or d; a bare `0` is allowed, any
// other number needs a unit (is `30` seconds or minutes?).
std::optional<duration> parse_duration(std::string_view text, std::string* error = nullptr);
// The largest unit that divides the value exactly: 300000ms -> "5m".
std::string format_duration(duration d);

// `<digits>[unit]`: no unit or B = bytes; kB/KB, MB, GB = powers of 1000;
// KiB, MiB, GiB = powers of 1024. Units are case-insensitive.
std::optional<std::uint64_t> parse_size(std::string_view text, std::string* error = nullptr);
// The largest binary unit that divides the value exactly, else bytes:
// 52428800 -> "50MiB", 50000000 -> "50000000".
std::string format_size(std::uint64_t bytes);

// Decimal digits only (no sign, no unit), at most `max`.
std::optional<std::uint64_t> parse_count(std::string_view text, std::uint64_t max, std::string* error = nullptr);

}  // namespace dsproxy::config
