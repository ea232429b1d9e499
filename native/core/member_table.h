// The member table: one small entry per known member plus an open-addressing index by name.
// Sized for the simulator's 10,000 engines x 10,000 members: an entry is 32 bytes (the record
// itself is shared through the RecordPool), the index 8 bytes per slot at most 75 % full. Each
// slot keeps 32 bits of the name's hash beside the entry index, so a lookup loads an entry
// (a cache miss in a big table) only for the one that is almost surely the match, not for
// every neighbour in the probe sequence: receiving gossip is mostly such lookups.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "core/record_pool.h"
#include "core/time.h"
#include "wire/messages.h"

namespace constellation::core {

inline constexpr uint32_t kNoIndex = std::numeric_limits<uint32_t>::max();

struct Member {
  RecordRef record;  // pooled; name, address and metadata
  uint64_t incarnation = 0;
  TimeMs state_changed_at = 0;
  uint32_t suspicion = kNoIndex;  // slot in the SuspicionSet while suspect
  wire::MemberState state = wire::MemberState::kAlive;
  // Broadcast queue bookkeeping (broadcast_queue.h): transmits so far and whether queued.
  uint8_t transmits = 0;
  bool queued = false;
  uint8_t reserved = 0;

  std::string_view name() const { return record->name; }
};

class MemberTable {
 public:
  size_t size() const { return members_.size(); }
  Member& operator[](uint32_t index) { return members_[index]; }
  const Member& operator[](uint32_t index) const { return members_[index]; }

  // Index of the member called `name`, or kNoIndex.
  uint32_t find(std::string_view name) const;
  // Performance hints for a batch of lookups (a received packet names up to ~30 members): in
  // a big table each find() waits on two cache misses, the index slot and then the entry.
  // Issuing every slot's load first, then every entry's, lets the misses overlap instead of
  // queueing one after another. Neither changes anything.
  void prefetch_slot(std::string_view name) const;
  void prefetch_entry(std::string_view name) const;
  // Adds a member that is not in the table yet; returns its index.
  uint32_t add(RecordPtr record, wire::MemberState state, uint64_t incarnation, TimeMs now);
  // Changes a member's state, keeping the per-state counts.
  void set_state(uint32_t index, wire::MemberState state, TimeMs now);
  // Members in each state, kept incrementally.
  size_t count(wire::MemberState state) const { return counts_[static_cast<size_t>(state)]; }

  // Removes every member for which `doomed` is true, keeping the others in order. `remap`
  // receives old index -> new index (kNoIndex for removed) so other structures can follow.
  template <class Pred>
  std::vector<uint32_t> remove_if(Pred doomed);

  void reserve(size_t members);
  size_t memory_bytes() const;

 private:
  void grow_index();
  void insert_index(uint32_t index);
  void rebuild_index();
  size_t slot_of(std::string_view name, size_t hash) const;

  std::vector<Member> members_;
  // Open addressing, linear probing. A slot is (high 32 bits of the name hash) << 32 | entry
  // index; an empty slot is all ones.
  std::vector<uint64_t> slots_;
  std::array<size_t, wire::kMaxMemberState + 1> counts_{};
};

template <class Pred>
std::vector<uint32_t> MemberTable::remove_if(Pred doomed) {
  std::vector<uint32_t> remap(members_.size(), kNoIndex);
  uint32_t out = 0;
  for (uint32_t in = 0; in < members_.size(); ++in) {
    if (doomed(members_[in])) {
      --counts_[static_cast<size_t>(members_[in].state)];
      continue;
    }
    if (out != in) members_[out] = std::move(members_[in]);
    remap[in] = out++;
  }
  members_.resize(out);
  rebuild_index();
  return remap;
}

}  // namespace constellation::core
