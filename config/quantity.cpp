// quantity — see quantity.hpp.
#include "config/quantity.hpp"

#include <array>
#include <cctype>
#include <limits>
#include <utility>

namespace dsproxy::config {

namespace {

void set_error(std::string* error, std::string message) {
    if (error) *error = std::move(message);
}

// Splits "123abc" into its leading decimal number and the rest; nullopt when
// there are no digits or the number does not fit 64 bits.
struct number_and_unit {
    std::uint64_t number = 0;
    std::string_view unit;
};

enum class number_error { none, no_digits, overflow };

number_error split_number(std::string_view text, number_and_unit& out) {
    std::size_t i = 0;
    std::uint64_t value = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return number_error::overflow;
        value = value * 10 + digit;
    }
    if (i == 0) return number_error::no_digits;
    out.number = value;
    out.unit = text.substr(i);
    return number_error::none;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

struct unit {
    std::string_view name;
    std::uint64_t factor;
};

// Largest first, so that printing picks the largest exact unit.
constexpr std::array duration_units{
    unit{"d", 86'400'000}, unit{"h", 3'600'000}, unit{"m", 60'000}, unit{"s", 1'000}, unit{"ms", 1},
};

constexpr std::uint64_t kib = 1024;
constexpr std::array size_units{
    unit{"GiB", kib * kib * kib}, unit{"MiB", kib * kib}, unit{"KiB", kib},
    unit{"GB", 1'000'000'000},    unit{"MB", 1'000'000},  unit{"kB", 1'000},
    unit{"B", 1},
};
constexpr std::string_view size_expectation =
    "a size such as `50MiB`, `10MB`, `512KiB` or a number of bytes";
constexpr std::string_view duration_expectation = "a duration such as `500ms`, `30s`, `5m`, `1h` or `1d`";

template <std::size_t N>
const unit* find_unit(const std::array<unit, N>& units, std::string_view name, bool case_sensitive) {
    for (const auto& u : units)
        if (case_sensitive ? u.name == name : iequals(u.name, name)) return &u;
    return nullptr;
}

}  // namespace

std::optional<duration> parse_duration(std::string_view text, std::string* error) {
    number_and_unit parts;
    const auto rc = split_number(text, parts);
    if (rc != number_error::none) {
        set_error(error, "expected " + std::string(duration_expectation) + ", got `" + std::string(text) + "`");
        return std::nullopt;
    }
    if (parts.unit.empty()) {
        if (parts.number == 0) return duration{0};
        set_error(error, "duration `" + std::string(text) + "` needs a unit: ms, s, m, h or d (e.g. `" +
                             std::string(text) + "s`)");
        return std::nullopt;
    }
    // Case-sensitive: `m` is minutes and `M` would be ambiguous with months.
    const unit* u = find_unit(duration_units, parts.unit, true);
    if (!u) {
        set_error(error, "unknown duration unit `" + std::string(parts.unit) + "` in `" + std::string(text) +
                             "`; expected ms, s, m, h or d");
        return std::nullopt;
    }
    constexpr auto max_ms = static_cast<std::uint64_t>(std::numeric_limits<duration::rep>::max());
    if (parts.number > max_ms / u->factor) {
        set_error(error, "duration `" + std::string(text) + "` is too large");
        return std::nullopt;
    }
    return duration{static_cast<duration::rep>(parts.number * u->factor)};
}

std::string format_duration(duration d) {
    const auto ms = static_cast<std::uint64_t>(d.count());
    if (ms == 0) return "0s";
    for (const auto& u : duration_units)
        if (ms % u.factor == 0) return std::to_string(ms / u.factor) + std::string(u.name);
    return std::to_string(ms) + "ms";  // unreachable: the unit list ends in factor 1
}

std::optional<std::uint64_t> parse_size(std::string_view text, std::string* error) {
    number_and_unit parts;
    const auto rc = split_number(text, parts);
    if (rc != number_error::none) {
        set_error(error, rc == number_error::overflow
                             ? "size `" + std::string(text) + "` is too large"
                             : "expected " + std::string(size_expectation) + ", got `" + std::string(text) + "`");
        return std::nullopt;
    }
    if (parts.unit.empty()) return parts.number;
    const unit* u = find_unit(size_units, parts.unit, false);
    if (!u) {
        set_error(error, "unknown size unit `" + std::string(parts.unit) + "` in `" + std::string(text) +
                             "`; expected B, kB, MB, GB, KiB, MiB or GiB");
        return std::nullopt;
    }
    if (parts.number > std::numeric_limits<std::uint64_t>::max() / u->factor) {
        set_error(error, "size `" + std::string(text) + "` is too large");
        return std::nullopt;
    }
    return parts.number * u->factor;
}

std::string format_size(std::uint64_t bytes) {
    if (bytes == 0) return "0";
    for (const auto& u : size_units) {
        if (u.name.back() != 'B' || u.name.size() < 3) continue;  // binary units only
        if (bytes % u.factor == 0) return std::to_string(bytes / u.factor) + std::string(u.name);
    }
    return std::to_string(bytes);
}

std::optional<std::uint64_t> parse_count(std::string_view text, std::uint64_t max, std::string* error) {
    number_and_unit parts;
    const auto rc = split_number(text, parts);
    if (rc == number_error::none && parts.unit.empty() && parts.number <= max) return parts.number;
    if (rc == number_error::overflow || (rc == number_error::none && parts.unit.empty()))
        set_error(error, "`" + std::string(text) + "` is too large; the maximum is " + std::to_string(max));
    else
        set_error(error, "expected a whole number, got `" + std::string(text) + "`");
    return std::nullopt;
}

}  // namespace dsproxy::config
