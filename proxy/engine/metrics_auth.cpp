// metrics_auth — see metrics_auth.hpp.
#include "proxy/engine/metrics_auth.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace dsproxy::engine {

namespace {

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return std::move(text).str();
}

bool same(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// RFC 7617: base64 of "user:password".
std::optional<std::string> base64_decode(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return std::nullopt;
    std::string out(text.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    std::size_t length = static_cast<std::size_t>(n);
    for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) --length;  // EVP_DecodeBlock counts padding
    out.resize(length);
    return out;
}

bool password_matches(const std::string& password, const std::string& hash) {
    crypt_data data{};
    const char* computed = crypt_r(password.c_str(), hash.c_str(), &data);
    return computed && computed[0] != '*' && same(computed, hash);
}

}  // namespace

std::optional<metrics_credentials> load_metrics_credentials(const config::metrics& m, std::string& error) {
    metrics_credentials c;
    if (m.bearer_token_file) {
        auto text = read_text(*m.bearer_token_file);
        while (text && !text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
        const bool one_token = text && !text->empty() &&
                               std::none_of(text->begin(), text->end(), [](unsigned char ch) { return std::isspace(ch); });
        if (!one_token) {
            error = "metrics: " + *m.bearer_token_file + (text ? " does not hold one token" : " cannot be read");
            return std::nullopt;
        }
        c.bearer_token = std::move(*text);
    }
    if (m.basic_auth_file) {
        const auto text = read_text(*m.basic_auth_file);
        if (!text) {
            error = "metrics: " + *m.basic_auth_file + " cannot be read";
            return std::nullopt;
        }
        std::istringstream lines(*text);
        int number = 0;
        for (std::string line; std::getline(lines, line);) {
            ++number;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.empty() || line.front() == '#') continue;
            const auto colon = line.find(':');
            if (colon == 0 || colon == std::string::npos || colon + 1 == line.size() || line[colon + 1] != '$') {
                error = "metrics: " + *m.basic_auth_file + " line " + std::to_string(number) +
                        ": expected `user:HASH` with a crypt(3) hash such as `openssl passwd -6` prints";
                return std::nullopt;
            }
            c.users.emplace_back(line.substr(0, colon), line.substr(colon + 1));
        }
        if (c.users.empty()) {
            error = "metrics: " + *m.basic_auth_file + " names no user";
            return std::nullopt;
        }
    }
    return c;
}

bool authorized(const metrics_credentials& c, std::string_view authorization) {
    if (!c.required()) return true;
    // RFC 7235: the scheme is case-insensitive, one space before the credentials.
    const auto space = authorization.find(' ');
    if (space == std::string_view::npos) return false;
    std::string scheme(authorization.substr(0, space));
    for (auto& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const auto credentials = authorization.substr(space + 1);
    if (scheme == "bearer") return c.bearer_token && same(credentials, *c.bearer_token);  // wire: RFC 6750
    if (scheme != "basic" || c.users.empty()) return false;                                // wire: RFC 7617
    const auto decoded = base64_decode(credentials);
    if (!decoded) return false;
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) return false;
    const auto user = decoded->substr(0, colon);
    const auto password = decoded->substr(colon + 1);
    for (const auto& [name, hash] : c.users)
        if (same(name, user)) return password_matches(password, hash);
    return false;
}

}  // namespace dsproxy::engine
