// policy_response — see policy_response.hpp.
#include "proxy/sts/policy_response.hpp"

#include <cctype>

namespace dsproxy::sts {

https_url policy_url(std::string_view domain, std::uint16_t port) {
    return {"mta-sts." + std::string(domain), port, "/.well-known/mta-sts.txt"};
}

bool is_text_plain(std::string_view content_type) noexcept {
    constexpr std::string_view want = "text/plain";
    std::string_view media = content_type.substr(0, content_type.find(';'));  // wire: parameters follow ';'
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
    while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
    if (media.size() != want.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(media[i])) != want[i]) return false;
    return true;
}

policy_judgement judge_policy_response(unsigned status, std::string_view content_type, std::string body,
                                       std::string id, std::int64_t now) {
    if (status != 200)
        return {std::nullopt, fetch_error::http_status, "HTTP status " + std::to_string(status) + " (only 200 is a policy)"};
    if (!is_text_plain(content_type))
        return {std::nullopt, fetch_error::content_type,
                "Content-Type '" + std::string(content_type) + "' is not text/plain"};
    auto parsed = parse_policy(body);
    if (!parsed.policy) {
        std::string where = parsed.line ? " on line " + std::to_string(parsed.line) : std::string();
        return {std::nullopt, fetch_error::invalid, "policy invalid: " + std::string(to_string(parsed.error)) + where};
    }
    const std::int64_t expires = now + parsed.policy->max_age;
    return {known_policy{std::move(id), std::move(*parsed.policy), std::move(body), now, expires}, fetch_error::none, {}};
}

}  // namespace dsproxy::sts
