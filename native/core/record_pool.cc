// Record interning (see record_pool.h).
#include "core/record_pool.h"

#include "wire/codec.h"
#include "wire/have_filter.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string_view>
#include <utility>

namespace constellation::core {

namespace {

bool same_content(const wire::MemberRecord& a, const wire::MemberRecord& b) {
  return a.incarnation == b.incarnation && a.id == b.id && a.name == b.name &&
         a.address == b.address && a.versions == b.versions && a.resources == b.resources &&
         a.tags == b.tags;
}

size_t heap_string_bytes(const std::string& s) {
  // Short strings live inside the std::string object (SSO); longer ones allocate capacity + 1.
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

}  // namespace

uint64_t RecordPool::hash_of(const wire::MemberRecord& r) {
  // Name, id and incarnation only: together they almost always tell records apart (a member
  // changes its metadata by raising its incarnation), and same_content compares everything
  // for the rare rest.
  uint64_t h = std::hash<std::string_view>{}(r.name);
  h ^= (r.id + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  h ^= (r.incarnation + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

size_t RecordPool::find_slot(const wire::MemberRecord& record, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (!slot.record || (slot.hash == hash && same_content(*slot.record, record))) return i;
  }
}

void RecordPool::insert(RecordPtr record, uint64_t hash) {
  if (2 * (count_ + 1) > slots_.size()) rebuild(std::max<size_t>(64, 2 * slots_.size()));
  Slot& slot = slots_[find_slot(*record, hash)];
  slot.hash = hash;
  slot.record = std::move(record);
  ++count_;
}

void RecordPool::rebuild(size_t capacity) {
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(capacity));
  count_ = 0;
  for (Slot& slot : old) {
    if (slot.record) insert(std::move(slot.record), slot.hash);
  }
}

RecordPtr RecordPool::intern(const wire::MemberRecord& record) {
  if (!slots_.empty()) {
    const Slot& slot = slots_[find_slot(record, hash_of(record))];
    if (slot.record) return slot.record;
  }
  wire::MemberRecord copy = record;
  return intern(std::move(copy));
}

RecordPtr RecordPool::intern(wire::MemberRecord&& record) {
  const uint64_t hash = hash_of(record);
  if (!slots_.empty()) {
    const Slot& slot = slots_[find_slot(record, hash)];
    if (slot.record) return slot.record;
  }
  record.state = wire::MemberState::kAlive;
  auto pooled = std::make_shared<PooledRecord>();
  static_cast<wire::MemberRecord&>(*pooled) = std::move(record);
  wire::encode_message(wire::Message{wire::Alive{*pooled}}, pooled->alive_message);
  pooled->alive_message.shrink_to_fit();
  pooled->name_hash = wire::have_name_hash(pooled->name);
  insert(pooled, hash);
  if (count_ >= sweep_at_) {
    sweep();
    sweep_at_ = std::max<size_t>(1024, count_ * 2);
  }
  return pooled;
}

void RecordPool::sweep() {
  // use_count() == 1 and no holders: only the pool still refers to the record.
  for (Slot& slot : slots_) {
    if (slot.record && slot.record.use_count() == 1 && pooled(*slot.record).holders == 0) {
      slot.record.reset();
    }
  }
  // Freed slots would break the probe sequences that ran through them: reinsert the rest.
  rebuild(slots_.size());
}

size_t RecordPool::memory_bytes() const {
  // Per record: the make_shared block (control block + record); plus the index.
  constexpr size_t kControlBlock = 16;
  size_t total = slots_.capacity() * sizeof(Slot);
  for (const Slot& slot : slots_) {
    if (!slot.record) continue;
    const wire::MemberRecord& r = *slot.record;
    total += kControlBlock + sizeof(PooledRecord) + heap_string_bytes(r.name) +
             pooled_alive_message(r).capacity();
    total += r.tags.capacity() * sizeof(wire::Tags::value_type);
    for (const auto& [key, value] : r.tags) {
      total += heap_string_bytes(key) + heap_string_bytes(value);
    }
  }
  return total;
}

}  // namespace constellation::core
