#pragma once
// The crypto merchgate needs, all on OpenSSL (never a hand-rolled primitive).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mg::core {

// Cryptographically secure random bytes (RAND_bytes); aborts the process if the RNG fails.
std::string random_bytes(std::size_t n);

// Random string over [0-9A-Za-z] of the given length (rejection sampling, no modulo bias).
std::string random_alnum(std::size_t n);

// `prefix` + "_" + 24 [0-9A-Za-z] characters: chk_…, evt_…, ful_…, rfd_…. The first 8 encode
// the time in milliseconds (so ids created later sort later and B-tree inserts stay on the
// rightmost page), the last 16 are random (about 95 bits: not guessable).
std::string new_id(std::string_view prefix);

std::string sha256(std::string_view data);                             // 32 raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes

std::string hex_encode(std::string_view bytes);                   // lower case
std::optional<std::string> hex_decode(std::string_view hex);      // either case; nullopt if invalid
std::string base64_encode(std::string_view bytes);                // standard alphabet, padded
std::optional<std::string> base64_decode(std::string_view text);  // standard, padded or not
std::string base64url_encode(std::string_view bytes);             // URL-safe alphabet, unpadded

// Constant-time equality (CRYPTO_memcmp); different lengths compare unequal without early exit
// on content.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// CRC-32 (IEEE, as zlib computes it), e.g. for PayPal's webhook signed string.
std::uint32_t crc32(std::string_view data) noexcept;

// AES-256-GCM with a fresh 12-byte random nonce per call. Output layout:
// "v1" (2 bytes) || nonce (12) || ciphertext || tag (16). `aad` is bound but not stored.
// `key` must be exactly 32 bytes.
std::string aes256gcm_seal(std::string_view key, std::string_view plaintext, std::string_view aad);
// nullopt when the key, the AAD or any byte is wrong.
std::optional<std::string> aes256gcm_open(std::string_view key, std::string_view sealed,
                                          std::string_view aad);

// RSA-SHA256 (PKCS#1 v1.5) verification of `signature` over `data` with the public key of a PEM
// X.509 certificate. False on any parse or verification failure.
bool rsa_sha256_verify_with_certificate(std::string_view certificate_pem, std::string_view data,
                                        std::string_view signature);

}  // namespace mg::core
