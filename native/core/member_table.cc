// Member table and its name index (see member_table.h).
#include "core/member_table.h"

#include <algorithm>
#include <bit>
#include <functional>

namespace constellation::core {

namespace {

constexpr uint64_t kEmptySlot = ~uint64_t{0};
constexpr uint64_t kTagMask = 0xffffffff00000000ULL;

size_t hash_name(std::string_view name) { return std::hash<std::string_view>{}(name); }
uint64_t tag_of(size_t hash) { return static_cast<uint64_t>(hash) & kTagMask; }
uint32_t index_of(uint64_t slot) { return static_cast<uint32_t>(slot); }

}  // namespace

size_t MemberTable::slot_of(std::string_view name, size_t hash) const {
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = tag_of(hash);
  // The start slot comes from the low bits of the hash, the tag from the high ones.
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const uint64_t entry = slots_[slot];
    if (entry == kEmptySlot) return slot;
    if ((entry & kTagMask) == tag && members_[index_of(entry)].name() == name) return slot;
  }
}

uint32_t MemberTable::find(std::string_view name) const {
  if (slots_.empty()) return kNoIndex;
  const uint64_t entry = slots_[slot_of(name, hash_name(name))];
  return entry == kEmptySlot ? kNoIndex : index_of(entry);
}

void MemberTable::prefetch_slot(std::string_view name) const {
  if (slots_.empty()) return;
  __builtin_prefetch(&slots_[hash_name(name) & (slots_.size() - 1)]);
}

void MemberTable::prefetch_entry(std::string_view name) const {
  if (slots_.empty()) return;
  const size_t hash = hash_name(name);
  // Only the first slot of the probe sequence: it holds the member most of the time.
  const uint64_t entry = slots_[hash & (slots_.size() - 1)];
  if (entry != kEmptySlot && (entry & kTagMask) == tag_of(hash)) {
    __builtin_prefetch(&members_[index_of(entry)]);
  }
}

uint32_t MemberTable::add(RecordPtr record, wire::MemberState state, uint64_t incarnation,
                          TimeMs now) {
  const auto index = static_cast<uint32_t>(members_.size());
  Member& m = members_.emplace_back();
  m.record = RecordRef(record);
  m.incarnation = incarnation;
  m.state = state;
  m.state_changed_at = now;
  ++counts_[static_cast<size_t>(state)];
  // Keep the index at most 3/4 full so linear probing stays short.
  if (4 * members_.size() > 3 * slots_.size()) {
    grow_index();
  } else {
    insert_index(index);
  }
  return index;
}

void MemberTable::set_state(uint32_t index, wire::MemberState state, TimeMs now) {
  Member& m = members_[index];
  if (m.state == state) return;
  --counts_[static_cast<size_t>(m.state)];
  ++counts_[static_cast<size_t>(state)];
  m.state = state;
  m.state_changed_at = now;
}

void MemberTable::insert_index(uint32_t index) {
  const std::string_view name = members_[index].name();
  const size_t hash = hash_name(name);
  slots_[slot_of(name, hash)] = tag_of(hash) | index;
}

void MemberTable::grow_index() {
  const size_t wanted = std::bit_ceil(std::max<size_t>(16, (4 * members_.size() + 2) / 3));
  if (slots_.size() < wanted) slots_.assign(wanted, kEmptySlot);
  rebuild_index();
}

void MemberTable::rebuild_index() {
  std::fill(slots_.begin(), slots_.end(), kEmptySlot);
  for (uint32_t i = 0; i < members_.size(); ++i) insert_index(i);
}

void MemberTable::reserve(size_t members) {
  members_.reserve(members);
  const size_t wanted = std::bit_ceil(std::max<size_t>(16, (4 * members + 2) / 3));
  if (slots_.size() < wanted) {
    slots_.assign(wanted, kEmptySlot);
    rebuild_index();
  }
}

size_t MemberTable::memory_bytes() const {
  return members_.capacity() * sizeof(Member) + slots_.capacity() * sizeof(uint64_t);
}

}  // namespace constellation::core
