// Shared, immutable member records. An engine's table keeps a pointer to a pooled record
// instead of its own copy, so N engines that all know member M (the simulator runs 10,000 of
// them in one process) hold one copy of M's record, not N.
#pragma once

#include <cstddef>
#include <memory>
#include <unordered_set>
#include <vector>

#include "wire/messages.h"

namespace constellation::core {

using RecordPtr = std::shared_ptr<const wire::MemberRecord>;

// What the pool actually allocates: the record plus its ALIVE message encoded once (type,
// length, body; state alive at the record's incarnation), so every engine that gossips the
// record copies bytes instead of encoding it again.
struct PooledRecord : wire::MemberRecord {
  std::vector<uint8_t> alive_message;
};

// The pre-encoded ALIVE of a record that came from RecordPool::intern (every record an engine
// holds does).
inline const std::vector<uint8_t>& pooled_alive_message(const wire::MemberRecord& record) {
  return static_cast<const PooledRecord&>(record).alive_message;
}

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

  size_t size() const { return records_.size(); }
  // Approximate heap bytes held by the pool's records and index.
  size_t memory_bytes() const;
  // Releases records held only by the pool. `intern` calls it when the pool has doubled.
  void sweep();

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(const wire::MemberRecord& record) const;
    size_t operator()(const RecordPtr& record) const { return (*this)(*record); }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(const wire::MemberRecord& a, const wire::MemberRecord& b) const;
    bool operator()(const RecordPtr& a, const RecordPtr& b) const { return (*this)(*a, *b); }
    bool operator()(const RecordPtr& a, const wire::MemberRecord& b) const {
      return (*this)(*a, b);
    }
    bool operator()(const wire::MemberRecord& a, const RecordPtr& b) const {
      return (*this)(a, *b);
    }
  };

  std::unordered_set<RecordPtr, Hash, Equal> records_;
  size_t sweep_at_ = 1024;
};

}  // namespace constellation::core
