// Length-prefixed frames for the TCP stream that carries SYNC_REQUEST / SYNC_RESPONSE
// (anti-entropy, too large for a datagram).
#include <algorithm>

#include "wire/codec.h"
#include "wire/varint.h"

namespace constellation::wire {

std::vector<uint8_t> encode_frame(const Message& message) {
  const size_t packet_size = kHeaderSize + encoded_size(message);
  std::vector<uint8_t> out;
  out.reserve(kFrameHeaderSize + packet_size);
  out.resize(kFrameHeaderSize);
  write_be32(static_cast<uint32_t>(packet_size), out.data());
  encode_header(0, out);
  encode_message(message, out);
  return out;
}

DecodeError read_frame_length(std::span<const uint8_t> bytes, size_t max_frame_bytes,
                              uint32_t& length) {
  if (bytes.size() < kFrameHeaderSize) return DecodeError::kTruncated;
  length = read_be32(bytes.data());
  // A frame always holds a packet, so a zero length is a frame cut short, not an empty one.
  if (length == 0) return DecodeError::kTruncated;
  if (length > std::min(max_frame_bytes, kMaxStreamFrameBytes)) return DecodeError::kOversize;
  return DecodeError::kNone;
}

}  // namespace constellation::wire
