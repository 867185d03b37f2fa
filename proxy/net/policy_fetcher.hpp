// policy_fetcher — fetches a domain's MTA-STS policy (RFC 8461 §3.3).
//
// Owns: one GET of https://mta-sts.<domain>/.well-known/mta-sts.txt through
// https_client (certificate verified with a host name check, no redirects,
// max_policy_size, total deadline) and the judgement of the answer
// (sts/policy_response: 200, text/plain, a whole valid policy).
// Must not: decide whether to fetch or what a failure means for delivery
// (sts/policy_cache), store the result, or log.
#pragma once

#include "proxy/net/https_client.hpp"
#include "proxy/sts/policy_response.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dsproxy::net {

// `id`: the TXT id the fetch is for; `now`: its UNIX time; `addresses`: of
// mta-sts.<domain> (empty: resolved by next_hop_connect); `port` is 443
// except in tests.
asio::awaitable<sts::policy_judgement> fetch_policy(std::string domain, std::string id, std::int64_t now,
                                                    std::vector<std::string> addresses, https_context context,
                                                    std::chrono::steady_clock::duration deadline,
                                                    std::uint16_t port = 443);

}  // namespace dsproxy::net
