#include "wire/have_filter.h"

#include <algorithm>

namespace constellation::wire {

namespace {

// splitmix64's finalizer: every input bit reaches every output bit.
uint64_t mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The filter's bit positions for one key: h1 + i * h2 (Kirsch and Mitzenmacher's double
// hashing), each mapped onto the filter by a multiply-shift instead of a division.
struct Probe {
  uint64_t h1;
  uint64_t h2;
  uint64_t bits;
  size_t at(unsigned i) const {
    const uint64_t h = h1 + i * h2;
    return static_cast<size_t>((static_cast<unsigned __int128>(h) * bits) >> 64);
  }
};

Probe probe(const HaveFilter& filter, uint64_t name_hash, uint64_t incarnation, MemberState state) {
  const uint64_t key =
      mix(mix(name_hash ^ filter.salt) ^ incarnation) ^ static_cast<uint64_t>(state);
  const uint64_t h1 = mix(key);
  const uint64_t h2 = mix(key ^ 0x9e3779b97f4a7c15ULL) | 1;
  return Probe{h1, h2, uint64_t{filter.bits.size()} * 8};
}

}  // namespace

uint64_t have_name_hash(std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, 64 bits
  for (const char c : name) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

HaveFilter make_have_filter(size_t members, uint64_t salt) {
  HaveFilter filter;
  filter.salt = salt;
  filter.hashes = kHaveFilterHashes;
  const size_t bytes = (std::max<size_t>(members, 1) * kHaveFilterBitsPerMember + 7) / 8;
  filter.bits.assign(std::clamp<size_t>(bytes, 8, kMaxHaveFilterBytes), 0);
  return filter;
}

void have_filter_add(HaveFilter& filter, uint64_t name_hash, uint64_t incarnation,
                     MemberState state) {
  if (filter.empty()) return;
  const Probe p = probe(filter, name_hash, incarnation, state);
  for (unsigned i = 0; i < filter.hashes; ++i) {
    const size_t bit = p.at(i);
    filter.bits[bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
  }
}

bool have_filter_contains(const HaveFilter& filter, uint64_t name_hash, uint64_t incarnation,
                          MemberState state) {
  if (filter.empty()) return false;
  const Probe p = probe(filter, name_hash, incarnation, state);
  for (unsigned i = 0; i < filter.hashes; ++i) {
    const size_t bit = p.at(i);
    if ((filter.bits[bit / 8] & (1u << (bit % 8))) == 0) return false;
  }
  return true;
}

}  // namespace constellation::wire
