// The keyring of the encryption envelope (envelope.h): one primary key seals outgoing packets,
// every key in the ring opens incoming ones, so a cluster rotates keys without downtime — add
// the new key on every member, make it primary everywhere, then remove the old one (the same
// three steps as memberlist/serf's keyring, which this mirrors in shape, not in code).
//
// Keys are AES keys of 16, 24 or 32 bytes (AES-128/192/256-GCM). A key is named by its id: the
// first four bytes of SHA-256("constellation/key\0" || key), shown as eight hex digits. The id
// travels in every sealed packet so a receiver tries exactly one key, and it is all that
// `list()`, errors and logs ever show: key bytes never leave this class except to the cipher.
//
// Threads: a Keyring is a plain value and not synchronised. A host shares it as an immutable
// snapshot: `SharedKeyring` holds a std::shared_ptr<const Keyring>; readers (the runtime
// thread, once per packet batch) take the pointer under a mutex and use the snapshot without
// any lock, writers (JavaScript's keys.add/use/remove) copy the current ring, change the copy
// and swap the pointer (copy-on-write). A snapshot a reader holds never changes under it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace constellation::wire {

using KeyId = uint32_t;

// One AES key. The bytes are wiped when the key is destroyed or overwritten.
class Key {
 public:
  Key() = default;
  Key(std::span<const uint8_t> bytes, KeyId id);
  Key(const Key& other);
  Key& operator=(const Key& other);
  ~Key();

  std::span<const uint8_t> bytes() const { return {bytes_.data(), size_}; }
  size_t size() const { return size_; }
  KeyId id() const { return id_; }

 private:
  void wipe();

  std::array<uint8_t, 32> bytes_{};
  uint8_t size_ = 0;
  KeyId id_ = 0;
};

struct KeyInfo {
  KeyId id = 0;
  uint32_t bits = 0;  // 128, 192 or 256
  bool primary = false;
  friend bool operator==(const KeyInfo&, const KeyInfo&) = default;
};

enum class KeyringError : uint8_t {
  kNone = 0,
  kBadLength,  // a key that is not 16, 24 or 32 bytes
  kExists,     // add: a key with this id is already in the ring (the same key, in practice)
  kFull,       // add: the ring already holds kMaxKeys keys
  kUnknown,    // use/remove: no key with this id
  kPrimary,    // remove: the primary key cannot be removed (make another key primary first)
};
const char* keyring_error_name(KeyringError error);

class Keyring {
 public:
  // A rotation needs two keys at a time; a ring is kept small so a packet costs one lookup.
  static constexpr size_t kMaxKeys = 16;

  // The id a key would have (independent of any ring); kBadLength is reported by `valid_size`.
  static KeyId id_of(std::span<const uint8_t> key);
  static bool valid_size(size_t bytes) { return bytes == 16 || bytes == 24 || bytes == 32; }
  // Eight lowercase hex digits, the only form in which a key is ever shown.
  static std::string id_text(KeyId id);

  // An empty ring means "no encryption".
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }

  // Adds a key (the first key added becomes primary). `id`, if given, receives the key's id.
  KeyringError add(std::span<const uint8_t> key, KeyId* id = nullptr);
  // Makes a key already in the ring the primary.
  KeyringError use(KeyId id);
  // Removes a key that is not the primary.
  KeyringError remove(KeyId id);
  // Ids, sizes and which one is primary, in the order the keys were added. Never key bytes.
  std::vector<KeyInfo> list() const;

  // The key that seals (null if the ring is empty).
  const Key* primary() const { return count_ == 0 ? nullptr : &keys_[primary_]; }
  // The key with this id (null if none): ids are unique within a ring.
  const Key* find(KeyId id) const;

 private:
  std::array<Key, kMaxKeys> keys_{};
  size_t count_ = 0;
  size_t primary_ = 0;
};

// The copy-on-write holder a runtime shares between its I/O thread and JavaScript.
class SharedKeyring {
 public:
  explicit SharedKeyring(Keyring initial = {})
      : current_(std::make_shared<const Keyring>(std::move(initial))) {}

  // The current ring; unaffected by later updates.
  std::shared_ptr<const Keyring> snapshot() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

  // Applies `change` to a copy of the ring and publishes the copy if it returns kNone.
  // Writers are serialised, so two updates never lose one another.
  KeyringError update(const std::function<KeyringError(Keyring&)>& change) {
    std::lock_guard write(write_mutex_);
    auto next = std::make_shared<Keyring>(*snapshot());
    const KeyringError error = change(*next);
    if (error != KeyringError::kNone) return error;
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
    return KeyringError::kNone;
  }

 private:
  mutable std::mutex mutex_;  // guards current_ (held only to copy or swap the pointer)
  std::mutex write_mutex_;    // serialises updates
  std::shared_ptr<const Keyring> current_;
};

}  // namespace constellation::wire
