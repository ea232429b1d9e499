// Record interning (see record_pool.h).
#include "core/record_pool.h"

#include "wire/codec.h"

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

size_t RecordPool::Hash::operator()(const wire::MemberRecord& r) const {
  // Name, id and incarnation only: together they almost always tell records apart (a member
  // changes its metadata by raising its incarnation), and Equal compares everything for the
  // rare rest. Every new member an engine learns is interned — 10^8 times in the simulator's
  // 10,000-member run — so hashing a hundred bytes of metadata each time would be the pool's
  // whole cost.
  uint64_t h = std::hash<std::string_view>{}(r.name);
  h ^= (r.id + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  h ^= (r.incarnation + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  h *= 0xff51afd7ed558ccdULL;
  return static_cast<size_t>(h ^ (h >> 33));
}

bool RecordPool::Equal::operator()(const wire::MemberRecord& a, const wire::MemberRecord& b) const {
  return same_content(a, b);
}

RecordPtr RecordPool::intern(const wire::MemberRecord& record) {
  if (auto it = records_.find(record); it != records_.end()) return *it;
  wire::MemberRecord copy = record;
  return intern(std::move(copy));
}

RecordPtr RecordPool::intern(wire::MemberRecord&& record) {
  if (auto it = records_.find(record); it != records_.end()) return *it;
  record.state = wire::MemberState::kAlive;
  auto pooled = std::make_shared<PooledRecord>();
  static_cast<wire::MemberRecord&>(*pooled) = std::move(record);
  wire::encode_message(wire::Message{wire::Alive{*pooled}}, pooled->alive_message);
  pooled->alive_message.shrink_to_fit();
  records_.insert(pooled);
  if (records_.size() >= sweep_at_) {
    sweep();
    sweep_at_ = std::max<size_t>(1024, records_.size() * 2);
  }
  return pooled;
}

void RecordPool::sweep() {
  // use_count() == 1 and no holders: only the pool still refers to the record.
  std::erase_if(records_,
                [](const RecordPtr& r) { return r.use_count() == 1 && pooled(*r).holders == 0; });
}

size_t RecordPool::memory_bytes() const {
  // Per record: the make_shared block (control block + record), the hash node, the bucket.
  constexpr size_t kControlBlock = 16;
  constexpr size_t kNode = sizeof(void*) + sizeof(RecordPtr) + sizeof(size_t);
  size_t total = records_.bucket_count() * sizeof(void*);
  for (const auto& r : records_) {
    total += kControlBlock + sizeof(PooledRecord) + kNode + heap_string_bytes(r->name) +
             pooled_alive_message(*r).capacity();
    total += r->tags.capacity() * sizeof(wire::Tags::value_type);
    for (const auto& [key, value] : r->tags) {
      total += heap_string_bytes(key) + heap_string_bytes(value);
    }
  }
  return total;
}

}  // namespace constellation::core
