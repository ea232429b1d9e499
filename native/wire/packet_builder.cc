// Packing messages into one datagram up to the MTU (SWIM §4.1: updates piggyback on probes, so
// as many as fit ride in one packet).
#include "wire/codec.h"

namespace constellation::wire {

PacketBuilder::PacketBuilder(size_t mtu) : mtu_(mtu) {
  buffer_.reserve(mtu_ > kHeaderSize ? mtu_ : kHeaderSize);
  encode_header(0, buffer_);
}

bool PacketBuilder::add(const Message& message) {
  if (!fits(encoded_size(message))) return false;
  encode_message(message, buffer_);
  ++count_;
  // The header is written before we know how many messages will follow; mark it compound once
  // a second one does.
  if (count_ == 2) buffer_[kHeaderSize - 1] |= kFlagCompound;
  return true;
}

std::vector<uint8_t> PacketBuilder::take() {
  std::vector<uint8_t> packet;
  // A header alone is not a packet (the decoder calls it truncated); an empty builder gives
  // an empty buffer so callers cannot send one by mistake.
  if (count_ > 0) packet.swap(buffer_);
  buffer_.clear();
  buffer_.reserve(mtu_ > kHeaderSize ? mtu_ : kHeaderSize);
  encode_header(0, buffer_);
  count_ = 0;
  return packet;
}

}  // namespace constellation::wire
