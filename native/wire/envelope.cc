// The envelope: AES-GCM through the OpenSSL inside Node (the addon resolves these symbols from
// the node binary; the fuzzers link the system libcrypto), and the cluster label.
#include "wire/envelope.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <memory>

#include "wire/codec.h"
#include "wire/varint.h"

namespace constellation::wire {

namespace {

constexpr size_t kClusterTagOffset = kHeaderSize;
constexpr size_t kKeyIdOffset = kClusterTagOffset + kClusterTagSize;
constexpr size_t kNonceOffset = kKeyIdOffset + kKeyIdSize;
constexpr uint8_t kEnvelopeFlags = kFlagEncrypted | kFlagLabelled;
constexpr uint8_t kAllFlags = kKnownFlags | kFlagLabelled;

// Explicitly fetched once (OpenSSL 3 would otherwise look the implementation up on every
// init); the legacy getter is the fallback if a provider lookup is refused.
const EVP_CIPHER* gcm_cipher(size_t key_bytes) {
  struct Ciphers {
    const EVP_CIPHER* aes128;
    const EVP_CIPHER* aes192;
    const EVP_CIPHER* aes256;
  };
  static const Ciphers ciphers = [] {
    const EVP_CIPHER* c128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    const EVP_CIPHER* c192 = EVP_CIPHER_fetch(nullptr, "AES-192-GCM", nullptr);
    const EVP_CIPHER* c256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return Ciphers{c128 ? c128 : EVP_aes_128_gcm(), c192 ? c192 : EVP_aes_192_gcm(),
                   c256 ? c256 : EVP_aes_256_gcm()};
  }();
  switch (key_bytes) {
    case 16:
      return ciphers.aes128;
    case 24:
      return ciphers.aes192;
    default:
      return ciphers.aes256;
  }
}

struct CipherContextFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// One cipher context per thread, reused for every packet (allocating one per packet costs more
// than sealing a small datagram). Each use re-initialises it with the key and nonce.
EVP_CIPHER_CTX* cipher_context() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree> ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

// Random nonces, drawn from OpenSSL's generator 256 at a time: one RAND_bytes call costs
// about as much as sealing a packet whatever its size (OpenSSL 3.0 locks and checks its DRBG
// per call), so a per-thread pool makes the nonce nearly free. Nonces are public, only their
// uniqueness matters; a fork() child (which would inherit the pool and repeat its parent's
// nonces) starts a fresh pool, see `fork_generation`.
std::atomic<uint64_t> fork_generation{0};

class NoncePool {
 public:
  bool take(uint8_t* nonce) {
    const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
    if (next_ == kPoolBytes || generation != generation_) {
      if (RAND_bytes(pool_.data(), static_cast<int>(kPoolBytes)) != 1) {
        next_ = kPoolBytes;
        return false;
      }
      next_ = 0;
      generation_ = generation;
    }
    std::memcpy(nonce, pool_.data() + next_, kNonceSize);
    // A nonce is never handed out twice, even by a later bug.
    OPENSSL_cleanse(pool_.data() + next_, kNonceSize);
    next_ += kNonceSize;
    return true;
  }

 private:
  static constexpr size_t kPoolBytes = 256 * kNonceSize;
  std::array<uint8_t, kPoolBytes> pool_{};
  size_t next_ = kPoolBytes;
  uint64_t generation_ = 0;
};

bool random_nonce(uint8_t* nonce) {
  static const bool registered = [] {
    return pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); }) == 0;
  }();
  // Without the fork hook, draw every nonce directly (slower, never repeated after a fork).
  if (!registered) return RAND_bytes(nonce, static_cast<int>(kNonceSize)) == 1;
  thread_local NoncePool pool;
  return pool.take(nonce);
}

// Everything before the ciphertext, then the cluster name with its length: GCM's associated
// data, authenticated but not encrypted.
bool add_associated_data(EVP_CIPHER_CTX* ctx, std::span<const uint8_t> prefix,
                         const ClusterLabel& cluster) {
  int written = 0;
  const uint8_t name_size = static_cast<uint8_t>(cluster.name().size());
  return EVP_CipherUpdate(ctx, nullptr, &written, prefix.data(), static_cast<int>(prefix.size())) ==
             1 &&
         EVP_CipherUpdate(ctx, nullptr, &written, &name_size, 1) == 1 &&
         (name_size == 0 ||
          EVP_CipherUpdate(ctx, nullptr, &written,
                           reinterpret_cast<const uint8_t*>(cluster.name().data()),
                           name_size) == 1);
}

bool is_plain_packet(std::span<const uint8_t> packet) {
  return packet.size() > kHeaderSize && read_be32(packet.data()) == kMagic &&
         packet[4] == kProtocolVersion && (packet[5] & ~kFlagCompound) == 0;
}

void write_header(uint8_t flags, uint8_t* out) {
  write_be32(kMagic, out);
  out[4] = kProtocolVersion;
  out[5] = flags;
}

// Appends the sealed form of a checked plain packet to `out`.
bool seal_into(std::span<const uint8_t> packet, const Keyring* keys, const ClusterLabel& cluster,
               std::vector<uint8_t>& out) {
  const uint8_t compound = packet[5] & kFlagCompound;
  const std::span<const uint8_t> messages = packet.subspan(kHeaderSize);
  const size_t start = out.size();
  const Key* key = keys != nullptr ? keys->primary() : nullptr;
  if (key == nullptr) {
    const std::string& name = cluster.name();
    if (name.empty()) {
      out.insert(out.end(), packet.begin(), packet.end());
      return true;
    }
    out.resize(start + kHeaderSize + 1 + name.size());
    write_header(kFlagLabelled | compound, out.data() + start);
    out[start + kHeaderSize] = static_cast<uint8_t>(name.size());
    std::memcpy(out.data() + start + kHeaderSize + 1, name.data(), name.size());
    out.insert(out.end(), messages.begin(), messages.end());
    return true;
  }

  if (messages.size() > static_cast<size_t>(INT_MAX) - kGcmTagSize) return false;
  out.resize(start + kSealedPrefixSize + messages.size() + kGcmTagSize);
  uint8_t* prefix = out.data() + start;
  write_header(kFlagEncrypted | compound, prefix);
  std::memcpy(prefix + kClusterTagOffset, cluster.tag().data(), kClusterTagSize);
  write_be32(key->id(), prefix + kKeyIdOffset);
  uint8_t* nonce = prefix + kNonceOffset;
  uint8_t* ciphertext = prefix + kSealedPrefixSize;
  uint8_t* tag = ciphertext + messages.size();

  EVP_CIPHER_CTX* ctx = cipher_context();
  int written = 0;
  int final_written = 0;
  const bool ok =
      ctx != nullptr && random_nonce(nonce) &&
      EVP_EncryptInit_ex(ctx, gcm_cipher(key->size()), nullptr, key->bytes().data(), nonce) == 1 &&
      add_associated_data(ctx, {prefix, kSealedPrefixSize}, cluster) &&
      EVP_EncryptUpdate(ctx, ciphertext, &written, messages.data(),
                        static_cast<int>(messages.size())) == 1 &&
      static_cast<size_t>(written) == messages.size() &&
      EVP_EncryptFinal_ex(ctx, ciphertext + written, &final_written) == 1 && final_written == 0 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize), tag) == 1;
  if (!ok) out.resize(start);
  return ok;
}

// Appends the plain packet inside `bytes` to `out`.
OpenError open_into(std::span<const uint8_t> bytes, const Keyring* keys,
                    const ClusterLabel& cluster, std::vector<uint8_t>& out) {
  // The header, checked as the codec would, so a rejection has the same name either way.
  if (bytes.empty()) return OpenError::kTruncated;
  const size_t magic_bytes = std::min<size_t>(bytes.size(), 4);
  uint8_t magic[4];
  write_be32(kMagic, magic);
  if (std::memcmp(bytes.data(), magic, magic_bytes) != 0) return OpenError::kBadMagic;
  if (bytes.size() < kHeaderSize) return OpenError::kTruncated;
  if (bytes[4] != kProtocolVersion) return OpenError::kBadVersion;
  const uint8_t flags = bytes[5];
  if ((flags & ~kAllFlags) != 0 || (flags & kEnvelopeFlags) == kEnvelopeFlags) {
    return OpenError::kBadField;
  }
  const bool encryption_on = keys != nullptr && !keys->empty();
  const uint8_t compound = flags & kFlagCompound;

  if ((flags & kFlagEncrypted) == 0) {
    if (encryption_on) return OpenError::kUnencrypted;
    const std::string& name = cluster.name();
    size_t body = kHeaderSize;
    if ((flags & kFlagLabelled) != 0) {
      if (bytes.size() < kHeaderSize + 1) return OpenError::kTruncated;
      const size_t label_size = bytes[kHeaderSize];
      if (label_size == 0) return OpenError::kBadField;  // a sender with no name sends no label
      if (bytes.size() < kHeaderSize + 1 + label_size) return OpenError::kTruncated;
      const auto* label = reinterpret_cast<const char*>(bytes.data() + kHeaderSize + 1);
      if (std::string_view(label, label_size) != name) return OpenError::kWrongCluster;
      body = kHeaderSize + 1 + label_size;
    } else if (!name.empty()) {
      // An unlabelled packet comes from a node configured without a cluster name: another
      // cluster as far as we are concerned.
      return OpenError::kWrongCluster;
    }
    const size_t start = out.size();
    out.resize(start + kHeaderSize);
    write_header(compound, out.data() + start);
    out.insert(out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(body), bytes.end());
    return OpenError::kNone;
  }

  if (bytes.size() < kMinSealedSize) return OpenError::kTruncated;
  // The clear cluster tag tells another cluster's traffic from a forgery without spending a
  // decryption on it; the full name is still authenticated as associated data below.
  if (std::memcmp(bytes.data() + kClusterTagOffset, cluster.tag().data(), kClusterTagSize) != 0) {
    return OpenError::kWrongCluster;
  }
  const Key* key = encryption_on ? keys->find(read_be32(bytes.data() + kKeyIdOffset)) : nullptr;
  if (key == nullptr) return OpenError::kBadKey;
  const size_t ciphertext_size = bytes.size() - kSealedPrefixSize - kGcmTagSize;
  if (ciphertext_size > static_cast<size_t>(INT_MAX)) return OpenError::kTruncated;

  const size_t start = out.size();
  out.resize(start + kHeaderSize + ciphertext_size);
  write_header(compound, out.data() + start);
  uint8_t* plaintext = out.data() + start + kHeaderSize;
  // OpenSSL's tag setter takes a non-const pointer; copy rather than cast the input's away.
  uint8_t tag[kGcmTagSize];
  std::memcpy(tag, bytes.data() + bytes.size() - kGcmTagSize, kGcmTagSize);

  EVP_CIPHER_CTX* ctx = cipher_context();
  int written = 0;
  int final_written = 0;
  const bool set_up =
      ctx != nullptr &&
      EVP_DecryptInit_ex(ctx, gcm_cipher(key->size()), nullptr, key->bytes().data(),
                         bytes.data() + kNonceOffset) == 1 &&
      add_associated_data(ctx, bytes.first(kSealedPrefixSize), cluster) &&
      EVP_DecryptUpdate(ctx, plaintext, &written, bytes.data() + kSealedPrefixSize,
                        static_cast<int>(ciphertext_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize), tag) == 1;
  // DecryptFinal verifies the tag; until it succeeds the plaintext is unauthenticated.
  if (!set_up || EVP_DecryptFinal_ex(ctx, plaintext + written, &final_written) != 1) {
    out.resize(start);
    return OpenError::kTampered;
  }
  return OpenError::kNone;
}

}  // namespace

const char* open_error_name(OpenError error) {
  switch (error) {
    case OpenError::kNone:
      return "none";
    case OpenError::kTruncated:
      return "truncated";
    case OpenError::kBadMagic:
      return "bad_magic";
    case OpenError::kBadVersion:
      return "bad_version";
    case OpenError::kBadField:
      return "bad_field";
    case OpenError::kUnencrypted:
      return "unencrypted";
    case OpenError::kBadKey:
      return "bad_key";
    case OpenError::kWrongCluster:
      return "wrong_cluster";
    case OpenError::kTampered:
      return "tampered";
  }
  return "unknown";
}

ClusterLabel::ClusterLabel(std::string_view name)
    : name_(name.substr(0, std::min(name.size(), kMaxClusterNameBytes))) {
  static constexpr char kDomain[] = "constellation/cluster";  // with its terminating zero
  std::vector<uint8_t> input(sizeof kDomain + name_.size());
  std::memcpy(input.data(), kDomain, sizeof kDomain);
  std::memcpy(input.data() + sizeof kDomain, name_.data(), name_.size());
  uint8_t digest[EVP_MAX_MD_SIZE] = {};
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha256(), nullptr) == 1 &&
      digest_size >= kClusterTagSize) {
    std::memcpy(tag_.data(), digest, kClusterTagSize);
  }
}

size_t seal_overhead(const Keyring* keys, const ClusterLabel& cluster) {
  if (keys != nullptr && !keys->empty()) return kSealedPrefixSize - kHeaderSize + kGcmTagSize;
  return cluster.name().empty() ? 0 : 1 + cluster.name().size();
}

bool seal(std::span<const uint8_t> packet, const Keyring* keys, const ClusterLabel& cluster,
          std::vector<uint8_t>& out) {
  out.clear();
  return is_plain_packet(packet) && seal_into(packet, keys, cluster, out);
}

OpenError open(std::span<const uint8_t> bytes, const Keyring* keys, const ClusterLabel& cluster,
               std::vector<uint8_t>& out) {
  out.clear();
  return open_into(bytes, keys, cluster, out);
}

bool seal_frame(std::span<const uint8_t> frame, const Keyring* keys, const ClusterLabel& cluster,
                std::vector<uint8_t>& out) {
  out.clear();
  if (frame.size() < kFrameHeaderSize ||
      read_be32(frame.data()) != frame.size() - kFrameHeaderSize) {
    return false;
  }
  const auto packet = frame.subspan(kFrameHeaderSize);
  out.resize(kFrameHeaderSize);
  if (!is_plain_packet(packet) || !seal_into(packet, keys, cluster, out) ||
      out.size() - kFrameHeaderSize > kMaxStreamFrameBytes) {
    out.clear();
    return false;
  }
  write_be32(static_cast<uint32_t>(out.size() - kFrameHeaderSize), out.data());
  return true;
}

OpenError open_frame(std::span<const uint8_t> frame, const Keyring* keys,
                     const ClusterLabel& cluster, std::vector<uint8_t>& out) {
  out.clear();
  if (frame.size() < kFrameHeaderSize ||
      read_be32(frame.data()) != frame.size() - kFrameHeaderSize) {
    return OpenError::kTruncated;
  }
  out.resize(kFrameHeaderSize);
  const OpenError error = open_into(frame.subspan(kFrameHeaderSize), keys, cluster, out);
  if (error != OpenError::kNone) {
    out.clear();
    return error;
  }
  write_be32(static_cast<uint32_t>(out.size() - kFrameHeaderSize), out.data());
  return OpenError::kNone;
}

}  // namespace constellation::wire
