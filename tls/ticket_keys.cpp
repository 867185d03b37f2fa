// ticket_keys — see ticket_keys.hpp.
#include "tls/ticket_keys.hpp"

#include "tls/pem_io.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dsproxy::tls {

namespace {

ticket_key random_key() {
    ticket_key k;
    RAND_bytes(k.name.data(), static_cast<int>(k.name.size()));
    RAND_bytes(k.hmac.data(), static_cast<int>(k.hmac.size()));
    RAND_bytes(k.aes.data(), static_cast<int>(k.aes.size()));
    return k;
}

std::string serialize(const std::vector<ticket_key>& keys) {
    std::string out;
    for (const auto& k : keys) {
        out.append(reinterpret_cast<const char*>(k.name.data()), k.name.size());
        out.append(reinterpret_cast<const char*>(k.hmac.data()), k.hmac.size());
        out.append(reinterpret_cast<const char*>(k.aes.data()), k.aes.size());
    }
    return out;
}

std::vector<ticket_key> deserialize(const std::string& bytes) {
    std::vector<ticket_key> keys;
    for (std::size_t off = 0; off + ticket_key_record_size <= bytes.size(); off += ticket_key_record_size) {
        ticket_key k;
        std::memcpy(k.name.data(), bytes.data() + off, 16);
        std::memcpy(k.hmac.data(), bytes.data() + off + 16, 32);
        std::memcpy(k.aes.data(), bytes.data() + off + 48, 32);
        keys.push_back(k);
    }
    return keys;
}

bool set_mac_key(EVP_MAC_CTX* mac, const ticket_key& k) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(k.hmac.data()), k.hmac.size()),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

std::optional<ticket_keys> ticket_keys::load(const std::string& path, bool allow_readable, std::string& error) {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) && !allow_readable) {
        error = "ticket key file " + path + " is readable by group or others; chmod 600 it";
        return std::nullopt;
    }
    auto bytes = read_file(path, error);
    if (!bytes) return std::nullopt;
    if (bytes->empty() || bytes->size() % ticket_key_record_size != 0 ||
        bytes->size() / ticket_key_record_size > max_ticket_keys) {
        error = "ticket key file " + path + " must hold 1 to " + std::to_string(max_ticket_keys) + " keys of " +
                std::to_string(ticket_key_record_size) + " bytes each (it has " + std::to_string(bytes->size()) +
                " bytes)";
        return std::nullopt;
    }
    ticket_keys out;
    out.keys_ = deserialize(*bytes);
    return out;
}

ticket_keys ticket_keys::generate() {
    ticket_keys out;
    out.keys_.push_back(random_key());
    return out;
}

int ticket_keys::on_ticket(unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
                           int encrypt) const {
    if (keys_.empty()) return encrypt ? -1 : 0;
    if (encrypt) {
        const ticket_key& k = keys_.front();
        std::memcpy(key_name, k.name.data(), k.name.size());
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
        if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1 || !set_mac_key(mac, k))
            return -1;
        return 1;
    }
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        const ticket_key& k = keys_[i];
        if (std::memcmp(key_name, k.name.data(), k.name.size()) != 0) continue;
        if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1 || !set_mac_key(mac, k))
            return -1;
        return i == 0 ? 1 : 2;  // 2: valid, but issue a fresh ticket under the current key
    }
    return 0;  // unknown key (rotated out, or another cluster): full handshake
}

bool rotate_ticket_key_file(const std::string& path, std::size_t keep, std::string& error) {
    std::vector<ticket_key> keys{random_key()};
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0) {
        auto old = ticket_keys::load(path, /*allow_readable=*/true, error);
        if (!old) return false;
        for (const auto& k : old->keys()) keys.push_back(k);
    }
    if (keep == 0) keep = 1;
    if (keep > max_ticket_keys) keep = max_ticket_keys;
    if (keys.size() > keep) keys.resize(keep);
    const std::string tmp = path + ".new";
    std::remove(tmp.c_str());
    if (!write_file(tmp, serialize(keys), private_key_mode, /*exclusive=*/true, error)) return false;
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        error = "cannot replace " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

}  // namespace dsproxy::tls
