// The keyring: ids, rotation rules, and keys that are wiped when they go.
#include "wire/keyring.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace constellation::wire {

Key::Key(std::span<const uint8_t> bytes, KeyId id)
    : size_(static_cast<uint8_t>(std::min(bytes.size(), bytes_.size()))), id_(id) {
  std::memcpy(bytes_.data(), bytes.data(), size_);
}

Key::Key(const Key& other) : bytes_(other.bytes_), size_(other.size_), id_(other.id_) {}

Key& Key::operator=(const Key& other) {
  if (this != &other) {
    bytes_ = other.bytes_;
    size_ = other.size_;
    id_ = other.id_;
  }
  return *this;
}

Key::~Key() { wipe(); }

void Key::wipe() {
  // OPENSSL_cleanse, unlike memset, is not removed by the optimiser as a dead store.
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
  size_ = 0;
}

const char* keyring_error_name(KeyringError error) {
  switch (error) {
    case KeyringError::kNone:
      return "none";
    case KeyringError::kBadLength:
      return "bad_length";
    case KeyringError::kExists:
      return "exists";
    case KeyringError::kFull:
      return "full";
    case KeyringError::kUnknown:
      return "unknown";
    case KeyringError::kPrimary:
      return "primary";
  }
  return "unknown";
}

KeyId Keyring::id_of(std::span<const uint8_t> key) {
  // Domain-separated so the id is never the hash of the key in any other context. The id does
  // not help an attacker: recovering a 128-bit or longer random key from its SHA-256 is as
  // hard as guessing it.
  static constexpr char kDomain[] = "constellation/key";  // with its terminating zero
  uint8_t input[sizeof kDomain + 32] = {};
  const size_t key_bytes = std::min<size_t>(key.size(), 32);
  std::memcpy(input, kDomain, sizeof kDomain);
  std::memcpy(input + sizeof kDomain, key.data(), key_bytes);
  uint8_t digest[EVP_MAX_MD_SIZE] = {};
  unsigned int digest_size = 0;
  const bool ok = EVP_Digest(input, sizeof kDomain + key_bytes, digest, &digest_size, EVP_sha256(),
                             nullptr) == 1;
  OPENSSL_cleanse(input, sizeof input);
  if (!ok || digest_size < 4) return 0;
  return (static_cast<KeyId>(digest[0]) << 24) | (static_cast<KeyId>(digest[1]) << 16) |
         (static_cast<KeyId>(digest[2]) << 8) | static_cast<KeyId>(digest[3]);
}

std::string Keyring::id_text(KeyId id) {
  char text[9] = {};
  std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(id));
  return text;
}

KeyringError Keyring::add(std::span<const uint8_t> key, KeyId* id) {
  if (!valid_size(key.size())) return KeyringError::kBadLength;
  const KeyId key_id = id_of(key);
  if (id != nullptr) *id = key_id;
  // Two different keys sharing a 32-bit id is a one-in-four-billion accident; refusing it keeps
  // ids unique, so a receiver never tries more than one key for a packet.
  if (find(key_id) != nullptr) return KeyringError::kExists;
  if (count_ == kMaxKeys) return KeyringError::kFull;
  keys_[count_++] = Key(key, key_id);
  return KeyringError::kNone;
}

KeyringError Keyring::use(KeyId id) {
  for (size_t i = 0; i < count_; ++i) {
    if (keys_[i].id() == id) {
      primary_ = i;
      return KeyringError::kNone;
    }
  }
  return KeyringError::kUnknown;
}

KeyringError Keyring::remove(KeyId id) {
  for (size_t i = 0; i < count_; ++i) {
    if (keys_[i].id() != id) continue;
    if (i == primary_) return KeyringError::kPrimary;
    // Shift the later keys down so `list()` keeps the order keys were added in.
    for (size_t j = i + 1; j < count_; ++j) keys_[j - 1] = keys_[j];
    keys_[--count_] = Key();
    if (primary_ > i) --primary_;
    return KeyringError::kNone;
  }
  return KeyringError::kUnknown;
}

std::vector<KeyInfo> Keyring::list() const {
  std::vector<KeyInfo> out;
  out.reserve(count_);
  for (size_t i = 0; i < count_; ++i) {
    out.push_back(
        KeyInfo{keys_[i].id(), static_cast<uint32_t>(keys_[i].size() * 8), i == primary_});
  }
  return out;
}

const Key* Keyring::find(KeyId id) const {
  for (size_t i = 0; i < count_; ++i) {
    if (keys_[i].id() == id) return &keys_[i];
  }
  return nullptr;
}

}  // namespace constellation::wire
