// policy_response — what an HTTPS response to the policy URL means
// (RFC 8461 §3.3), sans-I/O.
//
// Owns: the policy URL of a domain, and the judgement of a response the
// fetcher got: 200 only (a redirect is a failure: "senders MUST NOT follow
// redirects"), Content-Type text/plain (parameters such as charset allowed,
// compared case-insensitively), and a body that parse_policy accepts whole.
// Must not: fetch (proxy/net/policy_fetcher) or store.
#pragma once

#include "proxy/sts/https_url.hpp"
#include "proxy/sts/policy_cache.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsproxy::sts {

// https://mta-sts.<domain>/.well-known/mta-sts.txt (`port` only for tests).
https_url policy_url(std::string_view domain, std::uint16_t port = 443);

// True for "text/plain" with or without parameters, in any case.
bool is_text_plain(std::string_view content_type) noexcept;

struct policy_judgement {
    std::optional<known_policy> policy;     // set exactly when error == none
    fetch_error error = fetch_error::none;
    std::string detail;                     // one sentence when error != none
};

// `id`: the TXT record's id the fetch was made for; `now`: the fetch time.
policy_judgement judge_policy_response(unsigned status, std::string_view content_type, std::string body,
                                       std::string id, std::int64_t now);

}  // namespace dsproxy::sts
