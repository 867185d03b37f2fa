// pem_io — certificate, key and request files: reading, parsing, writing.
//
// Owns: turning file bytes into OpenSSL objects (PEM with chains, DER,
// PKCS#7 .p7b) and back, and writing files with an explicit mode so that
// private keys are never world-readable, not even for an instant (a 0600
// temporary, renamed into place: file_transaction).
// Must not: decide whether a certificate is acceptable (certificate_store
// does), log, or prompt for passwords (encrypted keys are refused).
// Limits: files over max_file_size are refused — a certificate bundle is far
// smaller; a larger file is a mistake or an attack on memory.
#pragma once

#include "tls/openssl_handles.hpp"

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsproxy::tls {

inline constexpr std::size_t max_file_size = 4 * 1024 * 1024;
inline constexpr mode_t private_key_mode = 0600;
inline constexpr mode_t public_file_mode = 0644;

// Reads a whole file. On failure returns nullopt and a sentence naming it.
std::optional<std::string> read_file(const std::string& path, std::string& error);

// Every certificate in `bytes`: PEM CERTIFICATE blocks in order, else one DER
// certificate, else a PKCS#7 (PEM or DER) bundle. Empty when none is found.
std::vector<x509_ptr> parse_certificates(std::string_view bytes);

// The first unencrypted private key in PEM `bytes`, or null.
evp_pkey_ptr parse_private_key(std::string_view bytes);

// True when PEM `bytes` hold a private key block of any kind.
bool contains_private_key(std::string_view bytes);

std::string certificate_pem(X509& cert);
std::string private_key_pem(EVP_PKEY& key);  // PKCS#8, unencrypted
std::string request_pem(X509_REQ& req);
std::string request_der(X509_REQ& req);
std::string crl_pem(X509_CRL& crl);

// A certificate's friendly name (Exchange's -FriendlyName, a PKCS#12 bag
// attribute) travels in its PEM file as the text OpenSSL itself writes
// before a certificate (`openssl pkcs12 -nokeys`) and every PEM reader skips:
//   Bag Attributes
//       friendlyName: Contoso mail 2026
// friendly_name_of returns the name before the file's first certificate, or "".
std::string friendly_name_of(std::string_view bytes);
std::string friendly_name_block(std::string_view name);
// A friendly name is at most 128 characters, none of them a control character.
inline constexpr std::size_t max_friendly_name_chars = 128;
bool is_valid_friendly_name(std::string_view name);

// Writes `bytes` to `path` with `mode`, atomically: a temporary renamed over
// an existing file, which readers see whole or not at all (file_transaction).
// With `exclusive`, an existing file is an error — private keys are never
// silently overwritten.
bool write_file(const std::string& path, std::string_view bytes, mode_t mode, bool exclusive, std::string& error);

}  // namespace dsproxy::tls
