// Builds one outgoing datagram up to the MTU, like wire::PacketBuilder, but also takes messages
// already encoded (the pooled ALIVE bytes of a record, see record_pool.h): gossiping a record
// then costs a copy of its bytes instead of a re-encoding per transmission, which is most of
// the sending work when thousands of engines spread thousands of joins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "wire/codec.h"
#include "wire/messages.h"

namespace constellation::core {

class PacketWriter {
 public:
  explicit PacketWriter(size_t mtu) : mtu_(mtu) {
    bytes_.reserve(mtu);
    wire::encode_header(0, bytes_);
  }

  size_t remaining() const { return mtu_ > bytes_.size() ? mtu_ - bytes_.size() : 0; }
  size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }

  // Appends one message if it fits; returns false (and changes nothing) if it does not.
  bool add(const wire::Message& message) {
    if (wire::encoded_size(message) > remaining()) return false;
    wire::encode_message(message, bytes_);
    counted();
    return true;
  }
  // Appends one message already encoded as `type | length | body`.
  bool add_encoded(std::span<const uint8_t> message) {
    if (message.size() > remaining()) return false;
    bytes_.insert(bytes_.end(), message.begin(), message.end());
    counted();
    return true;
  }
  // The datagram; the writer must not be used afterwards.
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  void counted() {
    // Mark the packet compound once a second message follows (see wire/codec.h).
    if (++count_ == 2) bytes_[wire::kHeaderSize - 1] |= wire::kFlagCompound;
  }

  size_t mtu_;
  size_t count_ = 0;
  std::vector<uint8_t> bytes_;
};

}  // namespace constellation::core
