// policy_fetcher — see policy_fetcher.hpp.
#include "proxy/net/policy_fetcher.hpp"

namespace dsproxy::net {

asio::awaitable<sts::policy_judgement> fetch_policy(std::string domain, std::string id, std::int64_t now,
                                                    std::vector<std::string> addresses, https_context context,
                                                    std::chrono::steady_clock::duration deadline,
                                                    std::uint16_t port) {
    https_request request;
    request.url = sts::policy_url(domain, port);
    https_limits limits;
    limits.deadline = deadline;
    limits.max_body = sts::max_policy_size;
    auto response = co_await https_exchange(request, addresses, context, limits);
    if (response.error != sts::fetch_error::none) co_return sts::policy_judgement{std::nullopt, response.error, response.detail};
    co_return sts::judge_policy_response(response.status, response.content_type, std::move(response.body),
                                         std::move(id), now);
}

}  // namespace dsproxy::net
