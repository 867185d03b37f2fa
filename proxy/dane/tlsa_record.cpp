// tlsa_record — see tlsa_record.hpp.
#include "proxy/dane/tlsa_record.hpp"

namespace dsproxy::dane {

std::string_view to_string(unusable_reason r) noexcept {
    switch (r) {
    case unusable_reason::none: return "usable";
    case unusable_reason::pkix_usage: return "PKIX usage (0 or 1) is not used for SMTP";
    case unusable_reason::unknown_usage: return "unknown certificate usage";
    case unusable_reason::unknown_selector: return "unknown selector";
    case unusable_reason::unknown_mtype: return "unknown matching type";
    case unusable_reason::digest_length: return "data length does not fit the matching type";
    }
    return "unknown";
}

std::optional<tlsa_record> decode_tlsa(std::span<const unsigned char> rdata) {
    if (rdata.size() < 4) return std::nullopt;
    tlsa_record r;
    r.usage = rdata[0];
    r.selector = rdata[1];
    r.mtype = rdata[2];
    r.data.assign(rdata.begin() + 3, rdata.end());
    return r;
}

unusable_reason why_unusable(const tlsa_record& r) noexcept {
    if (r.usage == static_cast<std::uint8_t>(tlsa_usage::pkix_ta) ||
        r.usage == static_cast<std::uint8_t>(tlsa_usage::pkix_ee))
        return unusable_reason::pkix_usage;
    if (r.usage > static_cast<std::uint8_t>(tlsa_usage::dane_ee)) return unusable_reason::unknown_usage;
    if (r.selector > static_cast<std::uint8_t>(tlsa_selector::spki)) return unusable_reason::unknown_selector;
    switch (r.mtype) {
    case static_cast<std::uint8_t>(tlsa_mtype::full):
        return r.data.empty() ? unusable_reason::digest_length : unusable_reason::none;
    case static_cast<std::uint8_t>(tlsa_mtype::sha256):
        return r.data.size() == 32 ? unusable_reason::none : unusable_reason::digest_length;
    case static_cast<std::uint8_t>(tlsa_mtype::sha512):
        return r.data.size() == 64 ? unusable_reason::none : unusable_reason::digest_length;
    default: return unusable_reason::unknown_mtype;
    }
}

std::string to_text(const tlsa_record& r, std::size_t max_hex) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = std::to_string(r.usage) + ' ' + std::to_string(r.selector) + ' ' + std::to_string(r.mtype) + ' ';
    for (std::size_t i = 0; i < r.data.size(); ++i) {
        if (2 * i >= max_hex) {
            out += "...";
            break;
        }
        out += hex[r.data[i] >> 4];
        out += hex[r.data[i] & 0x0f];
    }
    return out;
}

}  // namespace dsproxy::dane
