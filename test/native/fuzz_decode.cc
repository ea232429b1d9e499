// libFuzzer target for the wire decoder (docs/wire.md): a datagram and a TCP stream of frames.
//
// Beyond "no crash, no sanitizer report", every packet that decodes must survive a round trip:
// re-encoding it and decoding again gives the same messages, the re-encoding is stable, never
// longer than the input (varints are canonical, so only skipped messages and ignored tails can
// shrink it), encoded_size() predicts exactly what encode_message() writes, and
// validate_message() accepts it. A violation
// aborts, which libFuzzer reports as a crash with the input saved.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "wire/codec.h"

namespace w = constellation::wire;

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_decode invariant broken: %s\n", what);
    std::abort();
  }
}

void check_packet(std::span<const uint8_t> bytes, const w::Limits& limits) {
  w::DecodedPacket packet;
  const w::DecodeError error = w::decode_packet(bytes, limits, packet);
  require(static_cast<size_t>(error) < w::kDecodeErrorCount, "error out of range");
  if (error != w::DecodeError::kNone) return;
  require((packet.flags & ~w::kFlagCompound) == 0, "decoded flags");
  if (packet.messages.empty()) {
    require(packet.skipped_unknown > 0, "an empty packet decoded");
    return;
  }

  for (const auto& message : packet.messages) {
    require(w::validate_message(message, limits) == w::DecodeError::kNone,
            "a decoded message fails validation");
  }

  std::vector<uint8_t> encoded;
  w::encode_header(packet.messages.size() > 1 ? w::kFlagCompound : 0, encoded);
  for (const auto& message : packet.messages) {
    const size_t before = encoded.size();
    w::encode_message(message, encoded);
    require(encoded.size() - before == w::encoded_size(message), "encoded_size mismatch");
    // decode_message on the body alone gives the same message back.
    std::span<const uint8_t> entry(encoded.data() + before, encoded.size() - before);
    size_t header = 2;
    while (entry[header - 1] & 0x80) ++header;
    w::Message single;
    require(w::decode_message(static_cast<w::MessageType>(entry[0]), entry.subspan(header), limits,
                              single) == w::DecodeError::kNone,
            "decode_message failed on a re-encoded body");
    require(single == message, "decode_message changed the message");
  }
  require(encoded == w::encode_packet(packet.messages), "encode_packet differs");
  require(encoded.size() <= bytes.size(), "re-encoding is longer than the input");

  w::DecodedPacket again;
  require(w::decode_packet(encoded, limits, again) == w::DecodeError::kNone, "re-decode failed");
  require(again.messages == packet.messages, "round trip changed the messages");
  require(again.skipped_unknown == 0, "re-encoding kept an unknown message");
  require(w::encode_packet(again.messages) == encoded, "re-encoding is not stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);

  // As one datagram, with the default record limit and with a small one so the oversize paths
  // are reached from ordinary-looking records.
  check_packet(input, w::Limits{});
  check_packet(input, w::Limits{.max_record_bytes = 64});

  // As a TCP stream: frames back to back, as the SYNC reader consumes them.
  std::span<const uint8_t> stream = input;
  while (true) {
    uint32_t length = 0;
    const w::DecodeError error = w::read_frame_length(stream, 1 << 20, length);
    if (error != w::DecodeError::kNone) {
      require(error == w::DecodeError::kTruncated || error == w::DecodeError::kOversize,
              "frame length error");
      break;
    }
    require(length > 0, "zero frame length accepted");
    if (stream.size() - w::kFrameHeaderSize < length) break;  // waits for more bytes
    check_packet(stream.subspan(w::kFrameHeaderSize, length), w::Limits{});
    stream = stream.subspan(w::kFrameHeaderSize + length);
  }
  return 0;
}
