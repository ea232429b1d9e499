// The have-filter of a pulling SYNC_REQUEST (messages.h HaveFilter; layout in docs/wire.md).
//
// A Bloom filter over what the requester knows of each member: its name, incarnation and state.
// The server sends back only the members whose (name, incarnation, state) the filter does not
// contain, so pulling a table that is mostly known costs a few kilobytes instead of the whole
// table. A false positive (about 1 in 10,000 at the default size) only leaves that member out of
// this reply: the salt changes with every request, so the next pull misses other members, not the
// same one. The hash is fixed here (FNV-1a of the name, then a 64-bit mixer), because two
// builds must agree on it bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wire/messages.h"

namespace constellation::wire {

// Bits per member and hash functions of a filter built for a table: about 0.01 % false
// positives (measured 0.01-0.04 %). At 10 bits and 7 hashes (0.8 %), a 100-member join storm
// converged at 4.6 s instead of 1.7 s: each fresh member's follow-up pull from its seed left
// out one member in a hundred, and those waited for gossip.
inline constexpr size_t kHaveFilterBitsPerMember = 20;
inline constexpr uint8_t kHaveFilterHashes = 14;

// An empty filter sized for `members` entries (at most kMaxHaveFilterBytes).
HaveFilter make_have_filter(size_t members, uint64_t salt);
// The name's part of a key (FNV-1a, 64 bits), which a caller may compute once and keep.
uint64_t have_name_hash(std::string_view name);
void have_filter_add(HaveFilter& filter, uint64_t name_hash, uint64_t incarnation,
                     MemberState state);
// False: the requester surely does not have this (name, incarnation, state). An empty filter
// contains nothing.
bool have_filter_contains(const HaveFilter& filter, uint64_t name_hash, uint64_t incarnation,
                          MemberState state);

}  // namespace constellation::wire
