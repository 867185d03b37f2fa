// sts_record — see sts_record.hpp.
#include "proxy/sts/sts_record.hpp"

#include "proxy/sts/tag_list.hpp"

namespace dsproxy::sts {

namespace {

constexpr std::string_view version = "v=STSv1";
constexpr std::size_t max_id_length = 32;  // RFC 8461 §3.1: 1*32(ALPHA / DIGIT)

bool is_policy_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > max_id_length) return false;
    for (const char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    return true;
}

}  // namespace

std::string_view to_string(record_status s) noexcept {
    switch (s) {
        case record_status::ok: return "ok";
        case record_status::none: return "none";
        case record_status::multiple: return "multiple";
        case record_status::invalid: return "invalid";
    }
    return "?";
}

sts_record parse_sts_record(std::string_view record) {
    const auto tags = split_tags(record, version);
    if (!tags) return {record_status::invalid, {}};
    sts_record out{record_status::invalid, {}};
    bool have_id = false;
    for (const auto& t : *tags) {
        if (t.name == "id") {
            if (have_id || !is_policy_id(t.value)) return {record_status::invalid, {}};
            have_id = true;
            out.id = std::string(t.value);
        } else if (!is_tag_value(t.value)) {
            return {record_status::invalid, {}};
        }
    }
    if (!have_id) return {record_status::invalid, {}};
    out.status = record_status::ok;
    return out;
}

sts_record select_sts_record(const std::vector<std::string>& answer) {
    const std::string* chosen = nullptr;
    for (const auto& r : answer) {
        if (!starts_with_version(r, version)) continue;
        if (chosen) return {record_status::multiple, {}};
        chosen = &r;
    }
    if (!chosen) return {record_status::none, {}};
    return parse_sts_record(*chosen);
}

}  // namespace dsproxy::sts
