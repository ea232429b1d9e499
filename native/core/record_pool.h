// Shared, immutable member records. An engine's table keeps a pointer to a pooled record
// instead of its own copy, so N engines that all know member M (the simulator runs 10,000 of
// them in one process) hold one copy of M's record, not N.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "wire/messages.h"

namespace constellation::core {

using RecordPtr = std::shared_ptr<const wire::MemberRecord>;

// What the pool actually allocates: the record plus its ALIVE message encoded once (type,
// length, body; state alive at the record's incarnation), so every engine that gossips the
// record copies bytes instead of encoding it again; and a count of the member-table entries
// (RecordRef) holding it.
struct PooledRecord : wire::MemberRecord, std::enable_shared_from_this<PooledRecord> {
  std::vector<uint8_t> alive_message;
  uint64_t name_hash = 0;  // wire::have_name_hash(name): every pull hashes every member
  mutable uint32_t holders = 0;
};

inline const PooledRecord& pooled(const wire::MemberRecord& record) {
  // Every record an engine holds came from RecordPool::intern, so it is a PooledRecord.
  return static_cast<const PooledRecord&>(record);
}

// The pre-encoded ALIVE of a pooled record.
inline const std::vector<uint8_t>& pooled_alive_message(const wire::MemberRecord& record) {
  return pooled(record).alive_message;
}

// The have-filter hash of a pooled record's name (wire/have_filter.h).
inline uint64_t pooled_name_hash(const wire::MemberRecord& record) {
  return pooled(record).name_hash;
}

// A member-table entry's hold on a pooled record: one pointer, where a shared_ptr takes two.
// One entry per member per engine is the simulator's dominant memory cost (10^8 of them for
// 10,000 engines of 10,000 members), so the 8 bytes matter. The count lives in the record and,
// like the pool, is not thread-safe; the pool frees a record only when no RecordRef and no
// RecordPtr refers to it.
class RecordRef {
 public:
  RecordRef() = default;
  explicit RecordRef(const RecordPtr& record) : record_(record ? &pooled(*record) : nullptr) {
    if (record_ != nullptr) ++record_->holders;
  }
  RecordRef(const RecordRef& other) : record_(other.record_) {
    if (record_ != nullptr) ++record_->holders;
  }
  RecordRef(RecordRef&& other) noexcept : record_(std::exchange(other.record_, nullptr)) {}
  RecordRef& operator=(RecordRef other) noexcept {
    std::swap(record_, other.record_);
    return *this;
  }
  ~RecordRef() {
    if (record_ != nullptr) --record_->holders;
  }

  const wire::MemberRecord& operator*() const { return *record_; }
  const wire::MemberRecord* operator->() const { return record_; }
  const wire::MemberRecord* get() const { return record_; }
  // A shared owner of the same record, for events and snapshots handed to the host.
  RecordPtr shared() const { return record_ == nullptr ? nullptr : record_->shared_from_this(); }

 private:
  const PooledRecord* record_ = nullptr;
};

// Deduplicates records by content (name, id, address, incarnation, versions, resources, tags;
// `state` is not part of a pooled record: the pool stores it as kAlive and each engine keeps
// the state it believes in its own table). Not thread-safe: one pool per thread. Records no
// engine holds any more are released by an amortised sweep.
class RecordPool {
 public:
  RecordPool() = default;
  RecordPool(const RecordPool&) = delete;
  RecordPool& operator=(const RecordPool&) = delete;

  // The pooled record equal to `record` (state ignored), adding it if new.
  RecordPtr intern(const wire::MemberRecord& record);
  RecordPtr intern(wire::MemberRecord&& record);

  size_t size() const { return count_; }
  // Approximate heap bytes held by the pool's records and index.
  size_t memory_bytes() const;
  // Releases records held only by the pool. `intern` calls it when the pool has doubled.
  void sweep();

 private:
  // The index: open addressing, linear probing, at most half full, so a lookup costs one
  // cache miss for the slot and one for the record it compares — interning is every new
  // member every engine learns, 10^8 times in the simulator's 10,000-member run. Records
  // leave only in sweep(), which rebuilds the index.
  struct Slot {
    uint64_t hash = 0;
    RecordPtr record;  // empty: a free slot
  };
  static uint64_t hash_of(const wire::MemberRecord& record);
  size_t find_slot(const wire::MemberRecord& record, uint64_t hash) const;
  void insert(RecordPtr record, uint64_t hash);
  void rebuild(size_t capacity);

  std::vector<Slot> slots_;
  size_t count_ = 0;
  size_t sweep_at_ = 1024;
};

}  // namespace constellation::core
