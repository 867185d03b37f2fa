// ticket_keys — session ticket keys that several dsproxy instances can share
// and that can be rotated (docs/design.md §3, §8).
//
// Owns: the key file format and the OpenSSL ticket callback's key lookup.
// File: one or more 80-byte records (16 bytes key name, 32 bytes HMAC-SHA256
// key, 32 bytes AES-256 key), at most max_ticket_keys; the first encrypts new
// tickets, all decrypt (tickets under an older key are accepted and renewed).
// Rotation: write a new record in front and drop the oldest
// (`rotate_ticket_key_file`, or `head -c 80 /dev/urandom` by hand), then
// reload. The file is a secret: refused when readable by group or others.
// Must not: log. Keys are never printed.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace dsproxy::tls {

inline constexpr std::size_t ticket_key_record_size = 80;
inline constexpr std::size_t max_ticket_keys = 8;

struct ticket_key {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> hmac{};
    std::array<unsigned char, 32> aes{};
};

class ticket_keys {
public:
    // Loads a key file. `allow_readable`: accept group/other-readable files.
    static std::optional<ticket_keys> load(const std::string& path, bool allow_readable, std::string& error);
    // One random key, for an instance that shares tickets with nobody.
    static ticket_keys generate();

    const std::vector<ticket_key>& keys() const noexcept { return keys_; }

    // The body of OpenSSL's ticket key callback (see SSL_CTX_set_tlsext_ticket_key_evp_cb).
    int on_ticket(unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
                  int encrypt) const;

private:
    std::vector<ticket_key> keys_;
};

// Puts a new random key first in `path` (creating it), keeps at most `keep`
// keys in all, mode 0600, replaced atomically (rename).
bool rotate_ticket_key_file(const std::string& path, std::size_t keep, std::string& error);

}  // namespace dsproxy::tls
