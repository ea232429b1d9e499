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

// FNV-1a style mixing of every field that makes two records different; `state` is left out
// on purpose (it belongs to each engine's table, not to the shared record).
struct Mixer {
  uint64_t h = 1469598103934665603ULL;
  void bytes(const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i) {
      h ^= p[i];
      h *= 1099511628211ULL;
    }
  }
  void u64(uint64_t v) { bytes(&v, sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
};

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
  Mixer m;
  m.str(r.name);
  m.u64(r.id);
  m.u64(r.incarnation);
  m.u64(static_cast<uint64_t>(r.address.family));
  m.bytes(r.address.bytes.data(), r.address.bytes.size());
  m.u64(r.address.port);
  m.u64((uint64_t{r.versions.min} << 16) | (uint64_t{r.versions.max} << 8) | r.versions.current);
  m.u64(r.resources.max_instances);
  m.u64(r.resources.current_instances);
  m.u64(r.resources.cpu_total_milli);
  m.u64(r.resources.cpu_available_milli);
  m.u64(r.resources.ram_total_mb);
  m.u64(r.resources.ram_available_mb);
  m.u64(r.tags.size());
  for (const auto& [key, value] : r.tags) {
    m.str(key);
    m.str(value);
  }
  return static_cast<size_t>(m.h);
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
