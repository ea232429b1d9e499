// The messages Constellation nodes exchange, as plain values. The byte layout lives in
// codec.h / codec.cc and is described in docs/wire.md; nothing here knows about bytes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace constellation::wire {

// Protocol version spoken by this build. A packet with another version is rejected.
inline constexpr uint8_t kProtocolVersion = 1;
inline constexpr uint32_t kMagic = 0x52414453;  // "RADS"
inline constexpr size_t kHeaderSize = 6;        // magic(4) version(1) flags(1)
inline constexpr size_t kDefaultMtu = 1400;
inline constexpr size_t kDefaultMaxRecordBytes = 1024;
// Hard ceilings the decoder enforces whatever the configuration says.
inline constexpr size_t kMaxNameBytes = 255;
inline constexpr size_t kMaxRecordBytesCeiling = 64 * 1024;
inline constexpr size_t kMaxStreamFrameBytes = 64 * 1024 * 1024;
// A SYNC_REQUEST's have-filter (have_filter.h): at most this many bytes and hash functions.
inline constexpr size_t kMaxHaveFilterBytes = 1024 * 1024;
inline constexpr uint8_t kMaxHaveFilterHashes = 16;

// Packet header flags.
inline constexpr uint8_t kFlagCompound = 0x01;   // more than one message follows
inline constexpr uint8_t kFlagEncrypted = 0x02;  // the body is an encryption envelope
inline constexpr uint8_t kKnownFlags = kFlagCompound | kFlagEncrypted;

enum class MessageType : uint8_t {
  kPing = 1,
  kAck = 2,
  kPingReq = 3,
  kNack = 4,
  kAlive = 5,
  kSuspect = 6,
  kDead = 7,
  kLeave = 8,
  kSyncRequest = 9,
  kSyncResponse = 10,
  // 0x80..0xFF are reserved for user messages; the decoder skips types it does not know.
  kUserFirst = 0x80,
};

enum class MemberState : uint8_t {
  kAlive = 0,
  kSuspect = 1,
  kDead = 2,
  kLeft = 3,
};
inline constexpr uint8_t kMaxMemberState = 3;

// An IPv4 or IPv6 address in network byte order. IPv4 uses the first 4 bytes.
struct Address {
  enum class Family : uint8_t { kV4 = 4, kV6 = 6 };
  Family family = Family::kV4;
  std::array<uint8_t, 16> bytes{};
  uint16_t port = 0;

  friend bool operator==(const Address&, const Address&) = default;
};

// The seed system's Node fields. CPU is carried in millicores so it stays an integer on the
// wire (1.5 CPUs = 1500).
struct Resources {
  uint32_t max_instances = 0;
  uint32_t current_instances = 0;
  uint32_t cpu_total_milli = 0;
  uint32_t cpu_available_milli = 0;
  uint64_t ram_total_mb = 0;
  uint64_t ram_available_mb = 0;

  friend bool operator==(const Resources&, const Resources&) = default;
};

using Tags = std::vector<std::pair<std::string, std::string>>;

// The protocol versions a member speaks: the range it understands and the one it sends.
struct ProtocolVersions {
  uint8_t min = kProtocolVersion;
  uint8_t max = kProtocolVersion;
  uint8_t current = kProtocolVersion;

  friend bool operator==(const ProtocolVersions&, const ProtocolVersions&) = default;
};

// Everything the cluster knows about one member. `name` is the identity; `id` is chosen at
// random each time a process starts, so a restart under the same name can be told apart.
struct MemberRecord {
  std::string name;
  uint64_t id = 0;
  Address address;
  MemberState state = MemberState::kAlive;
  uint64_t incarnation = 0;
  ProtocolVersions versions;
  Resources resources;
  Tags tags;

  friend bool operator==(const MemberRecord&, const MemberRecord&) = default;
};

// SWIM probe. The target name guards against a different process now owning the address.
struct Ping {
  uint32_t seq = 0;
  std::string source;
  std::string target;
  friend bool operator==(const Ping&, const Ping&) = default;
};

struct Ack {
  uint32_t seq = 0;
  std::string source;
  friend bool operator==(const Ack&, const Ack&) = default;
};

// Indirect probe: the receiver pings `target` at `target_address` for `source`.
struct PingReq {
  uint32_t seq = 0;
  std::string source;
  std::string target;
  Address target_address;
  bool want_nack = true;  // Lifeguard: answer NACK if the target stays silent
  friend bool operator==(const PingReq&, const PingReq&) = default;
};

// Lifeguard: sent by an intermediary whose own probe of the target got no answer.
struct Nack {
  uint32_t seq = 0;
  std::string source;
  friend bool operator==(const Nack&, const Nack&) = default;
};

// A member is alive at this incarnation, with this record (also used for metadata updates).
struct Alive {
  MemberRecord member;
  friend bool operator==(const Alive&, const Alive&) = default;
};

struct Suspect {
  uint64_t incarnation = 0;
  std::string target;
  std::string from;  // the suspecter, so independent confirmations can be counted
  friend bool operator==(const Suspect&, const Suspect&) = default;
};

struct Dead {
  uint64_t incarnation = 0;
  std::string target;
  std::string from;
  friend bool operator==(const Dead&, const Dead&) = default;
};

// A member's own announcement that it is leaving on purpose.
struct Leave {
  uint64_t incarnation = 0;
  std::string name;
  friend bool operator==(const Leave&, const Leave&) = default;
};

// What the sender of a SYNC_REQUEST already knows: a Bloom filter over (name, incarnation,
// state) of every member of its table, so the reply need only carry the rest (a pull). Empty
// `bits`: no filter, the reply carries the whole table. Hashing is in have_filter.h.
struct HaveFilter {
  uint64_t salt = 0;   // mixed into every key, fresh per request: a false positive is not repeated
  uint8_t hashes = 0;  // bits set per key, 1..kMaxHaveFilterHashes
  std::vector<uint8_t> bits;
  bool empty() const { return bits.empty(); }
  friend bool operator==(const HaveFilter&, const HaveFilter&) = default;
};

// Full-state exchange (anti-entropy), carried over TCP in a length-prefixed frame.
struct SyncRequest {
  bool join = false;
  std::vector<MemberRecord> members;
  HaveFilter have;  // appended field (docs/wire.md): an older node ignores it
  friend bool operator==(const SyncRequest&, const SyncRequest&) = default;
};

struct SyncResponse {
  bool join = false;
  std::vector<MemberRecord> members;
  friend bool operator==(const SyncResponse&, const SyncResponse&) = default;
};

// A message of a type 0x80..0xFF, carried opaquely for a later user-message layer.
struct UserMessage {
  uint8_t type = static_cast<uint8_t>(MessageType::kUserFirst);
  std::vector<uint8_t> payload;
  friend bool operator==(const UserMessage&, const UserMessage&) = default;
};

using Message = std::variant<Ping, Ack, PingReq, Nack, Alive, Suspect, Dead, Leave, SyncRequest,
                             SyncResponse, UserMessage>;

MessageType type_of(const Message& message);
const char* type_name(MessageType type);
const char* state_name(MemberState state);

}  // namespace constellation::wire
