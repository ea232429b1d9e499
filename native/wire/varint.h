// Unsigned LEB128 varints and big-endian fixed-width integers, the two integer encodings of
// the wire format (docs/wire.md, "Integers").
//
// A varint is canonical: the shortest encoding of its value. Decoders reject a longer one
// (a trailing 0x00 group) so every value has exactly one encoding and a decode/encode round
// trip reproduces the input bytes.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace constellation::wire {

inline constexpr size_t kMaxVarint64Bytes = 10;
inline constexpr size_t kMaxVarint32Bytes = 5;

// Bytes `write_varint` uses for `value` (1..10).
constexpr size_t varint_size(uint64_t value) {
  return (static_cast<size_t>(std::bit_width(value | 1)) + 6) / 7;
}

// Writes `value` at `out`, which must have room for varint_size(value) bytes; returns the end.
inline uint8_t* write_varint(uint64_t value, uint8_t* out) {
  while (value >= 0x80) {
    *out++ = static_cast<uint8_t>(value | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<uint8_t>(value);
  return out;
}

inline uint8_t* write_be16(uint16_t value, uint8_t* out) {
  out[0] = static_cast<uint8_t>(value >> 8);
  out[1] = static_cast<uint8_t>(value);
  return out + 2;
}

inline uint8_t* write_be32(uint32_t value, uint8_t* out) {
  out[0] = static_cast<uint8_t>(value >> 24);
  out[1] = static_cast<uint8_t>(value >> 16);
  out[2] = static_cast<uint8_t>(value >> 8);
  out[3] = static_cast<uint8_t>(value);
  return out + 4;
}

inline uint8_t* write_be64(uint64_t value, uint8_t* out) {
  for (int shift = 56; shift >= 0; shift -= 8) *out++ = static_cast<uint8_t>(value >> shift);
  return out;
}

inline uint16_t read_be16(const uint8_t* in) {
  return static_cast<uint16_t>((static_cast<unsigned>(in[0]) << 8) | in[1]);
}

inline uint32_t read_be32(const uint8_t* in) {
  return (static_cast<uint32_t>(in[0]) << 24) | (static_cast<uint32_t>(in[1]) << 16) |
         (static_cast<uint32_t>(in[2]) << 8) | static_cast<uint32_t>(in[3]);
}

inline uint64_t read_be64(const uint8_t* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | in[i];
  return value;
}

enum class VarintStatus : uint8_t { kOk, kTruncated, kInvalid };

// Reads a varint of at most `max_bytes` groups from [*in, end). `last_group_max` is the
// largest value the final allowed group may hold (0x01 for u64: bit 63; 0x0F for u32: bits
// 28..31). Overlong (non-canonical) or overflowing encodings are kInvalid; running off the
// end is kTruncated. On success advances *in.
inline VarintStatus read_varint(const uint8_t** in, const uint8_t* end, size_t max_bytes,
                                uint8_t last_group_max, uint64_t& value) {
  const uint8_t* p = *in;
  uint64_t result = 0;
  for (size_t i = 0; i < max_bytes; ++i) {
    if (p == end) return VarintStatus::kTruncated;
    const uint8_t byte = *p++;
    if (i + 1 == max_bytes && byte > last_group_max) return VarintStatus::kInvalid;
    result |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (byte == 0 && i > 0) return VarintStatus::kInvalid;  // overlong: a trailing zero group
      value = result;
      *in = p;
      return VarintStatus::kOk;
    }
  }
  return VarintStatus::kInvalid;  // unreachable: the last group's check rejects a continuation
}

}  // namespace constellation::wire
