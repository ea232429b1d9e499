// libFuzzer target for the envelope (native/wire/envelope.*, docs/wire.md "Envelope").
//
// The first input byte picks a receiver configuration (no keys / one key / two keys of
// different sizes; no cluster name / a short one / a 255-byte one) and an operation:
//   - open: the rest of the input is a packet (or frame) off the network. Whatever it is, open
//     must return a reason in range, and if it opens, the result must be a plain packet the
//     codec may parse, exactly as long as the input minus the form's overhead, and sealing it
//     again must open to the same bytes.
//   - seal-then-attack: the rest is a plain packet's messages. Sealed and opened it must come
//     back byte for byte; then one byte changed (position and mask from the input) or the
//     packet cut at a length from the input must never open when encrypted, and a labelled
//     packet must never open in a cluster whose name differs.
// A violation aborts, which libFuzzer reports as a crash with the input saved.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "wire/codec.h"
#include "wire/envelope.h"
#include "wire/keyring.h"

namespace w = constellation::wire;

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_envelope invariant broken: %s\n", what);
    std::abort();
  }
}

std::vector<uint8_t> make_key(size_t bytes, uint8_t seed) {
  std::vector<uint8_t> key(bytes);
  for (size_t i = 0; i < bytes; ++i) key[i] = static_cast<uint8_t>(seed * 131 + i * 29 + 7);
  return key;
}

struct Receiver {
  w::Keyring keys;
  w::ClusterLabel cluster;
};

Receiver receiver(uint8_t choice) {
  Receiver r;
  switch (choice % 3) {
    case 0:
      break;  // no encryption
    case 1:
      r.keys.add(make_key(32, 1));
      break;
    default:
      r.keys.add(make_key(16, 2));
      r.keys.add(make_key(24, 3));
      r.keys.use(w::Keyring::id_of(make_key(24, 3)));
      break;
  }
  switch ((choice / 3) % 3) {
    case 0:
      break;
    case 1:
      r.cluster = w::ClusterLabel("prod");
      break;
    default:
      r.cluster = w::ClusterLabel(std::string(255, 'c'));
      break;
  }
  return r;
}

size_t overhead_of(std::span<const uint8_t> wire_bytes) {
  const uint8_t flags = wire_bytes[5];
  if (flags & w::kFlagEncrypted) return w::kSealedPrefixSize - w::kHeaderSize + w::kGcmTagSize;
  if (flags & w::kFlagLabelled) return 1 + wire_bytes[w::kHeaderSize];
  return 0;
}

void check_opened(std::span<const uint8_t> input, const std::vector<uint8_t>& opened,
                  const Receiver& r) {
  require(opened.size() >= w::kHeaderSize, "opened packet shorter than a header");
  require(opened.size() + overhead_of(input) == input.size(), "opened size");
  require((opened[5] & ~w::kFlagCompound) == 0, "opened flags");
  require((opened[5] & w::kFlagCompound) == (input[5] & w::kFlagCompound), "compound bit");
  // The codec must be able to take whatever open lets through.
  w::DecodedPacket packet;
  (void)w::decode_packet(opened, w::Limits{}, packet);
  if (opened.size() > w::kHeaderSize) {
    std::vector<uint8_t> resealed;
    std::vector<uint8_t> reopened;
    require(w::seal(opened, &r.keys, r.cluster, resealed), "re-seal failed");
    require(w::open(resealed, &r.keys, r.cluster, reopened) == w::OpenError::kNone,
            "re-sealed packet does not open");
    require(reopened == opened, "re-sealed packet opens differently");
  }
}

void fuzz_open(std::span<const uint8_t> input, const Receiver& r, bool frame) {
  std::vector<uint8_t> opened;
  const w::OpenError error = frame ? w::open_frame(input, &r.keys, r.cluster, opened)
                                   : w::open(input, &r.keys, r.cluster, opened);
  require(static_cast<size_t>(error) < w::kOpenErrorCount, "reason out of range");
  if (error != w::OpenError::kNone) return;
  if (frame) {
    require(opened.size() >= w::kFrameHeaderSize, "opened frame too short");
    const uint32_t length = (uint32_t{opened[0]} << 24) | (uint32_t{opened[1]} << 16) |
                            (uint32_t{opened[2]} << 8) | opened[3];
    require(length == opened.size() - w::kFrameHeaderSize, "opened frame length");
    check_opened(input.subspan(w::kFrameHeaderSize),
                 std::vector<uint8_t>(opened.begin() + w::kFrameHeaderSize, opened.end()), r);
  } else {
    check_opened(input, opened, r);
  }
}

void fuzz_seal(std::span<const uint8_t> control, std::span<const uint8_t> messages,
               const Receiver& r) {
  if (messages.empty()) return;
  std::vector<uint8_t> packet;
  w::encode_header(control[0] & w::kFlagCompound, packet);
  packet.insert(packet.end(), messages.begin(), messages.end());
  std::vector<uint8_t> sealed;
  require(w::seal(packet, &r.keys, r.cluster, sealed), "seal refused a plain packet");
  require(sealed.size() == packet.size() + w::seal_overhead(&r.keys, r.cluster), "sealed size");
  std::vector<uint8_t> opened;
  require(w::open(sealed, &r.keys, r.cluster, opened) == w::OpenError::kNone,
          "sealed packet does not open");
  require(opened == packet, "sealed packet opens differently");

  const bool encrypted = !r.keys.empty();
  const size_t position = ((size_t{control[1]} << 8) | control[2]) % sealed.size();
  const uint8_t mask = control[3] == 0 ? 1 : control[3];
  std::vector<uint8_t> changed = sealed;
  changed[position] ^= mask;
  const w::OpenError changed_error = w::open(changed, &r.keys, r.cluster, opened);
  if (encrypted) require(changed_error != w::OpenError::kNone, "a changed sealed packet opened");

  const size_t cut = ((size_t{control[4]} << 8) | control[5]) % sealed.size();
  const w::OpenError cut_error =
      w::open(std::span<const uint8_t>(sealed).first(cut), &r.keys, r.cluster, opened);
  if (encrypted) require(cut_error != w::OpenError::kNone, "a cut sealed packet opened");

  // Another cluster, same keys: never opens.
  std::string other_name = r.cluster.name();
  if (other_name.size() < w::kMaxClusterNameBytes) {
    other_name += 'x';
  } else {
    other_name.back() ^= 1;
  }
  const w::ClusterLabel other(other_name);
  require(w::open(sealed, &r.keys, other, opened) != w::OpenError::kNone,
          "a packet opened in another cluster");

  // The frame form of the same packet.
  std::vector<uint8_t> frame(w::kFrameHeaderSize);
  frame[0] = static_cast<uint8_t>(packet.size() >> 24);
  frame[1] = static_cast<uint8_t>(packet.size() >> 16);
  frame[2] = static_cast<uint8_t>(packet.size() >> 8);
  frame[3] = static_cast<uint8_t>(packet.size());
  frame.insert(frame.end(), packet.begin(), packet.end());
  std::vector<uint8_t> sealed_frame;
  require(w::seal_frame(frame, &r.keys, r.cluster, sealed_frame), "seal_frame refused a frame");
  require(w::open_frame(sealed_frame, &r.keys, r.cluster, opened) == w::OpenError::kNone &&
              opened == frame,
          "sealed frame opens differently");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kControl = 7;
  if (size < kControl) return 0;
  const std::span<const uint8_t> input(data, size);
  const Receiver r = receiver(input[0] >> 2);
  switch (input[0] & 3) {
    case 0:
      fuzz_open(input.subspan(1), r, false);
      break;
    case 1:
      fuzz_open(input.subspan(1), r, true);
      break;
    default:
      fuzz_seal(input.subspan(1, kControl - 1), input.subspan(kControl), r);
      break;
  }
  return 0;
}
