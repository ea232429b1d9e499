// A bounds-checked cursor over untrusted bytes with a sticky error.
//
// Every read checks what remains first. The first failure is kept and every later read
// returns a zero value without touching the input, so a decoder can read a whole message and
// test `error()` once, and a failed read can never size an allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "wire/codec.h"
#include "wire/varint.h"

namespace constellation::wire {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes)
      : begin_(bytes.data()), p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  DecodeError error() const { return error_; }
  bool ok() const { return error_ == DecodeError::kNone; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }
  const uint8_t* position() const { return p_; }

  // Records `error` unless an earlier one is already recorded.
  void fail(DecodeError error) {
    if (ok()) {
      error_ = error;
      p_ = end_;
    }
  }

  uint8_t u8() {
    if (!ok()) return 0;
    if (p_ == end_) {
      fail(DecodeError::kTruncated);
      return 0;
    }
    return *p_++;
  }

  uint16_t be16() { return need(2) ? advance(2, read_be16(p_)) : 0; }
  uint32_t be32() { return need(4) ? advance(4, read_be32(p_)) : 0; }
  uint64_t be64() { return need(8) ? advance(8, read_be64(p_)) : 0; }

  uint64_t varint64() { return varint(kMaxVarint64Bytes, 0x01); }
  uint32_t varint32() { return static_cast<uint32_t>(varint(kMaxVarint32Bytes, 0x0F)); }

  // Consumes `n` bytes and returns them; empty if fewer remain (and records kTruncated).
  std::span<const uint8_t> bytes(size_t n) {
    if (!need(n)) return {};
    std::span<const uint8_t> out(p_, n);
    p_ += n;
    return out;
  }

  // A string whose length is checked against [min_len, max_len] before it is checked
  // against what remains: below min -> kBadField, above max -> kOversize.
  void string(std::string& out, size_t min_len, size_t max_len) {
    const uint64_t len = varint64();
    if (!ok()) return;
    if (len < min_len) return fail(DecodeError::kBadField);
    if (len > max_len) return fail(DecodeError::kOversize);
    if (!need(static_cast<size_t>(len))) return;
    // clear + append rather than assign: append has a short path for text that fits the
    // string's current capacity (the small-string buffer, for most names), assign does not.
    out.clear();
    out.append(reinterpret_cast<const char*>(p_), static_cast<size_t>(len));
    p_ += len;
  }

  // Splits off the next `n` bytes as a reader of their own (empty and kTruncated if fewer
  // remain).
  ByteReader sub(size_t n) { return ByteReader(bytes(n)); }

 private:
  bool need(size_t n) {
    if (!ok()) return false;
    if (remaining() < n) {
      fail(DecodeError::kTruncated);
      return false;
    }
    return true;
  }

  template <typename T>
  T advance(size_t n, T value) {
    p_ += n;
    return value;
  }

  uint64_t varint(size_t max_bytes, uint8_t last_group_max) {
    if (!ok()) return 0;
    // Fast path: most varints on the wire (lengths, small counters) are one byte.
    if (p_ != end_ && *p_ < 0x80) return *p_++;
    uint64_t value = 0;
    switch (read_varint(&p_, end_, max_bytes, last_group_max, value)) {
      case VarintStatus::kOk:
        return value;
      case VarintStatus::kTruncated:
        fail(DecodeError::kTruncated);
        return 0;
      case VarintStatus::kInvalid:
        fail(DecodeError::kBadField);
        return 0;
    }
    return 0;
  }

  const uint8_t* begin_;
  const uint8_t* p_;
  const uint8_t* end_;
  DecodeError error_ = DecodeError::kNone;
};

}  // namespace constellation::wire
