#include "gateway/core/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace mg::core {
namespace {

constexpr std::string_view kAlnum =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kSealVersion = "v1";
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

}  // namespace

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // Without a working RNG no id, nonce or key is safe: stop rather than continue weakly.
    std::fputs("fatal: RAND_bytes failed\n", stderr);
    std::abort();
  }
  return out;
}

namespace {

// Ids are made on every request; one RAND_bytes call (locks, DRBG) per id showed in profiles.
// Each thread draws from the same CSPRNG in blocks instead. The process never forks, so no two
// processes can share a block.
class RandomPool {
 public:
  unsigned char next() {
    if (used_ == block_.size()) {
      if (RAND_bytes(block_.data(), static_cast<int>(block_.size())) != 1) {
        std::fputs("fatal: RAND_bytes failed\n", stderr);
        std::abort();
      }
      used_ = 0;
    }
    unsigned char b = block_[used_];
    block_[used_++] = 0;  // a byte handed out is not kept around
    return b;
  }

 private:
  std::array<unsigned char, 512> block_{};
  std::size_t used_ = block_.size();
};

}  // namespace

std::string random_alnum(std::size_t n) {
  thread_local RandomPool pool;
  std::string out;
  out.reserve(n);
  // 62 * 4 = 248: bytes >= 248 are rejected so each character is uniform.
  while (out.size() < n) {
    unsigned char b = pool.next();
    if (b < 248) out.push_back(kAlnum[b % 62]);
  }
  return out;
}

std::string new_id(std::string_view prefix) {
  using namespace std::chrono;
  auto ms = static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  char time_part[8];
  for (int i = 7; i >= 0; --i) {
    time_part[i] = kAlnum[ms % 62];
    ms /= 62;
  }
  std::string id(prefix);
  id += '_';
  id.append(time_part, sizeof time_part);
  id += random_alnum(16);
  return id;
}

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
             EVP_sha256(), nullptr);
  return out;
}

namespace {

// One HMAC-SHA256 context per thread with its digest set once: the one-shot HMAC() fetches the
// algorithm from the provider store (a lock and a lookup) on every call, which showed in the
// webhook intake profile. EVP_MAC_init with a new key and no parameters keeps the digest.
class HmacSha256 {
 public:
  HmacSha256() : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)), ctx_(EVP_MAC_CTX_new(mac_)) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (mac_ == nullptr || ctx_ == nullptr || EVP_MAC_CTX_set_params(ctx_, params) != 1) {
      std::fputs("fatal: HMAC-SHA256 unavailable\n", stderr);
      std::abort();
    }
  }
  ~HmacSha256() {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
  }
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  std::string sign(std::string_view key, std::string_view data) {
    static const unsigned char kEmpty = 0;  // a null key would mean "the previous key"
    std::string out(32, '\0');
    std::size_t len = 0;
    if (EVP_MAC_init(ctx_, key.empty() ? &kEmpty : bytes(key), key.size(), nullptr) != 1 ||
        EVP_MAC_update(ctx_, bytes(data), data.size()) != 1 ||
        EVP_MAC_final(ctx_, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1 ||
        len != out.size()) {
      std::fputs("fatal: HMAC-SHA256 failed\n", stderr);
      std::abort();
    }
    return out;
  }

 private:
  EVP_MAC* mac_;
  EVP_MAC_CTX* ctx_;
};

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  thread_local HmacSha256 hmac;
  return hmac.sign(key, data);
}

std::string hex_encode(std::string_view in) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() * 2);
  for (unsigned char c : in) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(in),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // EVP_DecodeBlock wants padded input and reports padding as zero bytes; handle both here.
  std::string padded(text);
  while (padded.size() % 4 != 0) padded.push_back('=');
  for (std::size_t i = 0; i < padded.size(); ++i) {
    char c = padded[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i >= padded.size() - 2);
    if (!ok) return std::nullopt;
  }
  if (padded.size() >= 2 && padded[padded.size() - 2] == '=' && padded.back() != '=')
    return std::nullopt;
  std::string out(3 * padded.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(padded),
                          static_cast<int>(padded.size()));
  if (n < 0) return std::nullopt;
  std::size_t pad = 0;
  if (!padded.empty() && padded.back() == '=') ++pad;
  if (padded.size() >= 2 && padded[padded.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string base64url_encode(std::string_view in) {
  std::string out = base64_encode(in);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // Compare against itself on length mismatch so timing does not depend on where content differs.
  if (a.size() != b.size()) {
    (void)CRYPTO_memcmp(a.data(), a.data(), a.size());
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::uint32_t crc32(std::string_view data) noexcept {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::string aes256gcm_seal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  if (key.size() != 32) std::abort();  // a programming error: keys are validated at start-up
  std::string nonce = random_bytes(kNonceSize);
  std::string out;
  out.reserve(kSealVersion.size() + kNonceSize + plaintext.size() + kTagSize);
  out += kSealVersion;
  out += nonce;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  std::string cipher(plaintext.size(), '\0');
  std::string tag(kTagSize, '\0');
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(nonce)) &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size()));
  ok = ok && EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(cipher.data()), &len,
                               bytes(plaintext), static_cast<int>(plaintext.size()));
  int final_len = 0;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(cipher.data()) + len,
                                 &final_len);
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag.data());
  if (!ok) std::abort();
  out += cipher;
  out += tag;
  return out;
}

std::optional<std::string> aes256gcm_open(std::string_view key, std::string_view sealed,
                                          std::string_view aad) {
  if (key.size() != 32) return std::nullopt;
  if (sealed.size() < kSealVersion.size() + kNonceSize + kTagSize) return std::nullopt;
  if (sealed.substr(0, kSealVersion.size()) != kSealVersion) return std::nullopt;
  std::string_view nonce = sealed.substr(kSealVersion.size(), kNonceSize);
  std::string_view body = sealed.substr(kSealVersion.size() + kNonceSize);
  std::string_view cipher = body.substr(0, body.size() - kTagSize);
  std::string tag(body.substr(body.size() - kTagSize));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  std::string plain(cipher.size(), '\0');
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(nonce)) &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size()));
  ok = ok && EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                               bytes(cipher), static_cast<int>(cipher.size()));
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data());
  int final_len = 0;
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len,
                                 &final_len) == 1;
  if (!ok) return std::nullopt;
  return plain;
}

bool rsa_sha256_verify_with_certificate(std::string_view certificate_pem, std::string_view data,
                                        std::string_view signature) {
  Bio bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  if (!bio) return false;
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return false;
  PKey key(X509_get_pubkey(cert.get()));
  if (!key) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(data),
                          data.size()) == 1;
}

}  // namespace mg::core
