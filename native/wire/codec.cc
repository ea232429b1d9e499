// Message bodies and packets: the encoder and the decoder of docs/wire.md.
//
// Encoding computes a message's exact size first, then writes it in place, so a message costs
// one buffer growth at most and no intermediate copies. Decoding reads through a ByteReader
// (byte_reader.h): every length is checked against what remains before anything is allocated.
#include "wire/codec.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "wire/byte_reader.h"
#include "wire/message_tag.h"
#include "wire/varint.h"

namespace constellation::wire {

namespace {

// The smallest encodings, used to bound element counts by the bytes that remain before a
// vector is reserved: a count larger than remaining / minimum cannot be honest.
constexpr size_t kMinTagBytes = 3;  // key length 1, one key byte, value length 0
// name (len + 1 byte) + id 8 + address (family + 4 + port 2) + state 1 + incarnation 1 +
// versions 3 + resources 6 x 1 + tag count 1.
constexpr size_t kMinRecordBytes = 2 + 8 + 7 + 1 + 1 + 3 + 6 + 1;

size_t record_limit(const Limits& limits) {
  return std::min(limits.max_record_bytes, kMaxRecordBytesCeiling);
}

bool is_known_type(uint8_t type) {
  return type >= static_cast<uint8_t>(MessageType::kPing) &&
         type <= static_cast<uint8_t>(MessageType::kSyncResponse);
}

bool is_user_type(uint8_t type) { return type >= static_cast<uint8_t>(MessageType::kUserFirst); }

// ---- sizes ---------------------------------------------------------------------------------

size_t string_size(const std::string& s) { return varint_size(s.size()) + s.size(); }

size_t address_bytes(const Address& a) { return a.family == Address::Family::kV6 ? 16 : 4; }

size_t address_size(const Address& a) { return 1 + address_bytes(a) + 2; }

size_t resources_size(const Resources& r) {
  return varint_size(r.max_instances) + varint_size(r.current_instances) +
         varint_size(r.cpu_total_milli) + varint_size(r.cpu_available_milli) +
         varint_size(r.ram_total_mb) + varint_size(r.ram_available_mb);
}

size_t record_size(const MemberRecord& m) {
  size_t size = string_size(m.name) + 8 + address_size(m.address) + 1 + varint_size(m.incarnation) +
                3 + resources_size(m.resources) + varint_size(m.tags.size());
  for (const auto& [key, value] : m.tags) size += string_size(key) + string_size(value);
  return size;
}

size_t members_size(const std::vector<MemberRecord>& members) {
  size_t size = 1 + varint_size(members.size());
  for (const auto& m : members) size += record_size(m);
  return size;
}

size_t body_size(const Ping& m) {
  return varint_size(m.seq) + string_size(m.source) + string_size(m.target);
}
size_t body_size(const Ack& m) { return varint_size(m.seq) + string_size(m.source); }
size_t body_size(const Nack& m) { return varint_size(m.seq) + string_size(m.source); }
size_t body_size(const PingReq& m) {
  return varint_size(m.seq) + string_size(m.source) + string_size(m.target) +
         address_size(m.target_address) + 1;
}
size_t body_size(const Alive& m) { return record_size(m.member); }
size_t body_size(const Suspect& m) {
  return varint_size(m.incarnation) + string_size(m.target) + string_size(m.from);
}
size_t body_size(const Dead& m) {
  return varint_size(m.incarnation) + string_size(m.target) + string_size(m.from);
}
size_t body_size(const Leave& m) { return varint_size(m.incarnation) + string_size(m.name); }
size_t have_size(const HaveFilter& h) {
  return h.empty() ? 0 : 8 + 1 + varint_size(h.bits.size()) + h.bits.size();
}
size_t body_size(const SyncRequest& m) { return members_size(m.members) + have_size(m.have); }
size_t body_size(const SyncResponse& m) { return members_size(m.members); }
size_t body_size(const UserMessage& m) { return m.payload.size(); }

// ---- writers -------------------------------------------------------------------------------

uint8_t* write_string(const std::string& s, uint8_t* p) {
  p = write_varint(s.size(), p);
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

uint8_t* write_address(const Address& a, uint8_t* p) {
  *p++ = static_cast<uint8_t>(a.family);
  const size_t n = address_bytes(a);
  std::memcpy(p, a.bytes.data(), n);
  return write_be16(a.port, p + n);
}

// The record with `state` and `incarnation` in place of its own (a SYNC entry: what the sender
// believes about the member).
uint8_t* write_record(const MemberRecord& m, MemberState state, uint64_t incarnation, uint8_t* p) {
  p = write_string(m.name, p);
  p = write_be64(m.id, p);
  p = write_address(m.address, p);
  *p++ = static_cast<uint8_t>(state);
  p = write_varint(incarnation, p);
  *p++ = m.versions.min;
  *p++ = m.versions.max;
  *p++ = m.versions.current;
  const Resources& r = m.resources;
  p = write_varint(r.max_instances, p);
  p = write_varint(r.current_instances, p);
  p = write_varint(r.cpu_total_milli, p);
  p = write_varint(r.cpu_available_milli, p);
  p = write_varint(r.ram_total_mb, p);
  p = write_varint(r.ram_available_mb, p);
  p = write_varint(m.tags.size(), p);
  for (const auto& [key, value] : m.tags) {
    p = write_string(key, p);
    p = write_string(value, p);
  }
  return p;
}

uint8_t* write_record(const MemberRecord& m, uint8_t* p) {
  return write_record(m, m.state, m.incarnation, p);
}

uint8_t* write_members(bool join, const std::vector<MemberRecord>& members, uint8_t* p) {
  *p++ = join ? 1 : 0;
  p = write_varint(members.size(), p);
  for (const auto& m : members) p = write_record(m, p);
  return p;
}

uint8_t* write_body(const Ping& m, uint8_t* p) {
  p = write_varint(m.seq, p);
  p = write_string(m.source, p);
  return write_string(m.target, p);
}
uint8_t* write_body(const Ack& m, uint8_t* p) {
  return write_string(m.source, write_varint(m.seq, p));
}
uint8_t* write_body(const Nack& m, uint8_t* p) {
  return write_string(m.source, write_varint(m.seq, p));
}
uint8_t* write_body(const PingReq& m, uint8_t* p) {
  p = write_varint(m.seq, p);
  p = write_string(m.source, p);
  p = write_string(m.target, p);
  p = write_address(m.target_address, p);
  *p++ = m.want_nack ? 1 : 0;
  return p;
}
uint8_t* write_body(const Alive& m, uint8_t* p) { return write_record(m.member, p); }
uint8_t* write_body(const Suspect& m, uint8_t* p) {
  p = write_varint(m.incarnation, p);
  p = write_string(m.target, p);
  return write_string(m.from, p);
}
uint8_t* write_body(const Dead& m, uint8_t* p) {
  p = write_varint(m.incarnation, p);
  p = write_string(m.target, p);
  return write_string(m.from, p);
}
uint8_t* write_body(const Leave& m, uint8_t* p) {
  return write_string(m.name, write_varint(m.incarnation, p));
}
uint8_t* write_body(const SyncRequest& m, uint8_t* p) {
  p = write_members(m.join, m.members, p);
  // Appended field: present only when there is a filter, so a full SYNC_REQUEST is encoded
  // exactly as before it existed.
  if (m.have.empty()) return p;
  p = write_be64(m.have.salt, p);
  *p++ = m.have.hashes;
  p = write_varint(m.have.bits.size(), p);
  std::memcpy(p, m.have.bits.data(), m.have.bits.size());
  return p + m.have.bits.size();
}
uint8_t* write_body(const SyncResponse& m, uint8_t* p) {
  return write_members(m.join, m.members, p);
}
uint8_t* write_body(const UserMessage& m, uint8_t* p) {
  if (!m.payload.empty()) std::memcpy(p, m.payload.data(), m.payload.size());
  return p + m.payload.size();
}

size_t message_body_size(const Message& message) {
  return std::visit([](const auto& m) { return body_size(m); }, message);
}

// ---- readers -------------------------------------------------------------------------------

void read_name(ByteReader& r, std::string& out) { r.string(out, 1, kMaxNameBytes); }

bool read_bool(ByteReader& r) {
  const uint8_t value = r.u8();
  if (value > 1) r.fail(DecodeError::kBadField);
  return value == 1;
}

void read_address(ByteReader& r, Address& a) {
  const uint8_t family = r.u8();
  size_t n = 0;
  if (family == static_cast<uint8_t>(Address::Family::kV4)) {
    n = 4;
  } else if (family == static_cast<uint8_t>(Address::Family::kV6)) {
    n = 16;
  } else {
    return r.fail(DecodeError::kBadField);
  }
  a.family = static_cast<Address::Family>(family);
  const auto bytes = r.bytes(n);
  if (!bytes.empty()) std::memcpy(a.bytes.data(), bytes.data(), n);
  a.port = r.be16();
}

// Reads the fields of one record from `r`, which the caller has bounded to the record limit.
void read_record_fields(ByteReader& r, size_t limit, MemberRecord& m) {
  read_name(r, m.name);
  m.id = r.be64();
  read_address(r, m.address);
  const uint8_t state = r.u8();
  if (state > kMaxMemberState) r.fail(DecodeError::kBadField);
  m.state = static_cast<MemberState>(state);
  m.incarnation = r.varint64();
  m.versions.min = r.u8();
  m.versions.max = r.u8();
  m.versions.current = r.u8();
  Resources& res = m.resources;
  res.max_instances = r.varint32();
  res.current_instances = r.varint32();
  res.cpu_total_milli = r.varint32();
  res.cpu_available_milli = r.varint32();
  res.ram_total_mb = r.varint64();
  res.ram_available_mb = r.varint64();
  const uint64_t count = r.varint64();
  if (!r.ok()) return;
  if (count > r.remaining() / kMinTagBytes) return r.fail(DecodeError::kTruncated);
  m.tags.resize(static_cast<size_t>(count));
  for (auto& [key, value] : m.tags) {
    r.string(key, 1, kMaxNameBytes);
    r.string(value, 0, limit);
    if (!r.ok()) return;
  }
}

// A record may not take more than `limit` bytes. The record is read through a window of at
// most `limit` bytes, so an oversized record fails as soon as it crosses the limit (a long tag
// value is refused before it is copied) instead of after it has been decoded.
void read_record(ByteReader& r, size_t limit, MemberRecord& m) {
  if (!r.ok()) return;
  const size_t available = r.remaining();
  const bool windowed = available > limit;
  ByteReader window({r.position(), windowed ? limit : available});
  read_record_fields(window, limit, m);
  if (window.error() == DecodeError::kTruncated && windowed) {
    return r.fail(DecodeError::kOversize);
  }
  if (!window.ok()) return r.fail(window.error());
  r.bytes(window.consumed());
}

void read_members(ByteReader& r, size_t limit, bool& join, std::vector<MemberRecord>& members) {
  join = read_bool(r);
  const uint64_t count = r.varint64();
  if (!r.ok()) return;
  if (count > r.remaining() / kMinRecordBytes) return r.fail(DecodeError::kTruncated);
  members.resize(static_cast<size_t>(count));
  for (auto& m : members) {
    read_record(r, limit, m);
    if (!r.ok()) return;
  }
}

void read_body(ByteReader& r, size_t, Ping& m) {
  m.seq = r.varint32();
  read_name(r, m.source);
  read_name(r, m.target);
}
void read_body(ByteReader& r, size_t, Ack& m) {
  m.seq = r.varint32();
  read_name(r, m.source);
}
void read_body(ByteReader& r, size_t, Nack& m) {
  m.seq = r.varint32();
  read_name(r, m.source);
}
void read_body(ByteReader& r, size_t, PingReq& m) {
  m.seq = r.varint32();
  read_name(r, m.source);
  read_name(r, m.target);
  read_address(r, m.target_address);
  m.want_nack = read_bool(r);
}
void read_body(ByteReader& r, size_t limit, Alive& m) { read_record(r, limit, m.member); }
void read_body(ByteReader& r, size_t, Suspect& m) {
  m.incarnation = r.varint64();
  read_name(r, m.target);
  read_name(r, m.from);
}
void read_body(ByteReader& r, size_t, Dead& m) {
  m.incarnation = r.varint64();
  read_name(r, m.target);
  read_name(r, m.from);
}
void read_body(ByteReader& r, size_t, Leave& m) {
  m.incarnation = r.varint64();
  read_name(r, m.name);
}
void read_body(ByteReader& r, size_t limit, SyncRequest& m) {
  read_members(r, limit, m.join, m.members);
  m.have = HaveFilter{};
  if (!r.ok() || r.remaining() == 0) return;
  m.have.salt = r.be64();
  m.have.hashes = r.u8();
  const uint64_t size = r.varint64();
  if (!r.ok()) return;
  if (m.have.hashes == 0 || m.have.hashes > kMaxHaveFilterHashes || size == 0) {
    return r.fail(DecodeError::kBadField);
  }
  if (size > kMaxHaveFilterBytes) return r.fail(DecodeError::kOversize);
  if (size > r.remaining()) return r.fail(DecodeError::kTruncated);
  const auto bits = r.bytes(static_cast<size_t>(size));
  m.have.bits.assign(bits.begin(), bits.end());
}
void read_body(ByteReader& r, size_t limit, SyncResponse& m) {
  read_members(r, limit, m.join, m.members);
}

template <typename T>
DecodeError decode_into(std::span<const uint8_t> body, size_t limit, T& out) {
  ByteReader r(body);
  // Bytes after the known fields are ignored: a later version may append fields to a message
  // and older peers still read the part they know (docs/wire.md, "Forward compatibility").
  read_body(r, limit, out);
  return r.error();
}

DecodeError decode_user(uint8_t type, std::span<const uint8_t> body, UserMessage& out) {
  out.type = type;
  out.payload.assign(body.begin(), body.end());
  return DecodeError::kNone;
}

// One dispatch on the type byte for both decode_message and the packet loop.
template <typename Sink>
DecodeError dispatch(uint8_t type, Sink&& sink) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::kPing:
      return sink(std::in_place_type<Ping>);
    case MessageType::kAck:
      return sink(std::in_place_type<Ack>);
    case MessageType::kPingReq:
      return sink(std::in_place_type<PingReq>);
    case MessageType::kNack:
      return sink(std::in_place_type<Nack>);
    case MessageType::kAlive:
      return sink(std::in_place_type<Alive>);
    case MessageType::kSuspect:
      return sink(std::in_place_type<Suspect>);
    case MessageType::kDead:
      return sink(std::in_place_type<Dead>);
    case MessageType::kLeave:
      return sink(std::in_place_type<Leave>);
    case MessageType::kSyncRequest:
      return sink(std::in_place_type<SyncRequest>);
    case MessageType::kSyncResponse:
      return sink(std::in_place_type<SyncResponse>);
    default:
      break;
  }
  if (!is_user_type(type)) return DecodeError::kBadField;
  return sink(std::in_place_type<UserMessage>);
}

}  // namespace

const char* error_name(DecodeError error) {
  switch (error) {
    case DecodeError::kNone:
      return "none";
    case DecodeError::kTruncated:
      return "truncated";
    case DecodeError::kBadMagic:
      return "bad_magic";
    case DecodeError::kBadVersion:
      return "bad_version";
    case DecodeError::kOversize:
      return "oversize";
    case DecodeError::kBadField:
      return "bad_field";
  }
  return "unknown";
}

DecodeError decode_message(MessageType type, std::span<const uint8_t> body, const Limits& limits,
                           Message& out) {
  const size_t limit = record_limit(limits);
  const auto raw = static_cast<uint8_t>(type);
  return dispatch(raw, [&]<typename T>(std::in_place_type_t<T>) {
    auto& message = out.emplace<T>();
    if constexpr (std::is_same_v<T, UserMessage>) {
      return decode_user(raw, body, message);
    } else {
      return decode_into(body, limit, message);
    }
  });
}

DecodeError decode_messages(std::span<const uint8_t> bytes, const Limits& limits,
                            DecodedPacket& out) {
  out.messages.clear();
  out.skipped_unknown = 0;
  const size_t limit = record_limit(limits);
  ByteReader r(bytes);
  while (r.remaining() > 0) {
    const uint8_t type = r.u8();
    const uint64_t length = r.varint64();
    if (!r.ok()) return r.error();
    // Checked against what remains before the u64 is narrowed to a size.
    if (length > r.remaining()) return DecodeError::kTruncated;
    const auto body = r.bytes(static_cast<size_t>(length));
    // Type 0 is never assigned: a zero there means zero-filled or misaligned bytes.
    if (type == 0) return DecodeError::kBadField;
    if (!is_known_type(type) && !is_user_type(type)) {
      // A newer peer's message type: skip it so mixed-version clusters keep talking.
      ++out.skipped_unknown;
      continue;
    }
    const DecodeError error = dispatch(type, [&]<typename T>(std::in_place_type_t<T>) {
      // Constructed in place as the right alternative: no default message to replace.
      auto& message = std::get<T>(out.messages.emplace_back(std::in_place_type<T>));
      if constexpr (std::is_same_v<T, UserMessage>) {
        return decode_user(type, body, message);
      } else {
        return decode_into(body, limit, message);
      }
    });
    if (error != DecodeError::kNone) return error;
  }
  if (out.messages.empty() && out.skipped_unknown == 0) return DecodeError::kTruncated;
  return DecodeError::kNone;
}

DecodeError decode_packet(std::span<const uint8_t> bytes, const Limits& limits,
                          DecodedPacket& out) {
  out.flags = 0;
  out.messages.clear();
  out.skipped_unknown = 0;
  if (bytes.size() < kHeaderSize) {
    // Too short for a header; still say bad_magic if the bytes present cannot begin one.
    for (size_t i = 0; i < bytes.size() && i < 4; ++i) {
      if (bytes[i] != static_cast<uint8_t>(kMagic >> (24 - 8 * i))) return DecodeError::kBadMagic;
    }
    return DecodeError::kTruncated;
  }
  if (read_be32(bytes.data()) != kMagic) return DecodeError::kBadMagic;
  if (bytes[4] != kProtocolVersion) return DecodeError::kBadVersion;
  const uint8_t flags = bytes[5];
  if ((flags & ~kKnownFlags) != 0) return DecodeError::kBadField;
  // An encrypted packet's body is an envelope, opened by the security layer, which then calls
  // decode_messages on the plaintext; reading ciphertext as messages would be meaningless.
  if ((flags & kFlagEncrypted) != 0) return DecodeError::kBadField;
  out.flags = flags;
  return decode_messages(bytes.subspan(kHeaderSize), limits, out);
}

size_t encoded_size(const Message& message) {
  const size_t body = message_body_size(message);
  return 1 + varint_size(body) + body;
}

size_t encoded_record_size(const MemberRecord& record) { return record_size(record); }

namespace {

// The record body inside an ALIVE message `type | length | body` this codec encoded, and the
// offset of its state byte (after the name, id and address), or an empty body if the entry
// has no usable encoding.
struct EncodedRecord {
  std::span<const uint8_t> body;
  size_t state_offset = 0;
};

EncodedRecord encoded_record(const TableEntry& e) {
  if (e.alive_message.size() < 2 || e.incarnation != e.record->incarnation) return {};
  ByteReader message(e.alive_message.subspan(1));
  const uint64_t length = message.varint64();
  if (!message.ok() || length != message.remaining()) return {};
  const std::span<const uint8_t> body = e.alive_message.subspan(e.alive_message.size() - length);
  ByteReader fields(body);
  const uint64_t name = fields.varint64();
  fields.bytes(static_cast<size_t>(std::min<uint64_t>(name, fields.remaining())));
  fields.be64();
  const uint8_t family = fields.u8();
  fields.bytes(family == static_cast<uint8_t>(Address::Family::kV6) ? 16 : 4);
  fields.be16();
  if (!fields.ok() || fields.remaining() == 0) return {};
  return {body, fields.consumed()};
}

}  // namespace

std::vector<uint8_t> encode_sync_frame(bool response, bool join,
                                       std::span<const TableEntry> members) {
  // Each entry's pre-encoded body is found once, for the size and then for the copy.
  std::vector<EncodedRecord> encoded;
  encoded.reserve(members.size());
  size_t body = 1 + varint_size(members.size());
  for (const TableEntry& e : members) {
    const EncodedRecord& found = encoded.emplace_back(encoded_record(e));
    body += !found.body.empty() ? found.body.size()
                                : record_size(*e.record) - varint_size(e.record->incarnation) +
                                      varint_size(e.incarnation);
  }
  const size_t packet = kHeaderSize + 1 + varint_size(body) + body;
  std::vector<uint8_t> out;
  out.reserve(kFrameHeaderSize + packet);
  out.resize(kFrameHeaderSize);
  write_be32(static_cast<uint32_t>(packet), out.data());
  encode_header(0, out);
  const size_t start = out.size();
  out.resize(start + 1 + varint_size(body) + body);
  uint8_t* p = out.data() + start;
  *p++ = static_cast<uint8_t>(response ? MessageType::kSyncResponse : MessageType::kSyncRequest);
  p = write_varint(body, p);
  *p++ = join ? 1 : 0;
  p = write_varint(members.size(), p);
  for (size_t i = 0; i < members.size(); ++i) {
    const TableEntry& e = members[i];
    const EncodedRecord& found = encoded[i];
    if (found.body.empty()) {
      p = write_record(*e.record, e.state, e.incarnation, p);
      continue;
    }
    std::memcpy(p, found.body.data(), found.body.size());
    p[found.state_offset] = static_cast<uint8_t>(e.state);
    p += found.body.size();
  }
  return out;
}

void encode_header(uint8_t flags, std::vector<uint8_t>& out) {
  const size_t start = out.size();
  out.resize(start + kHeaderSize);
  uint8_t* p = write_be32(kMagic, out.data() + start);
  p[0] = kProtocolVersion;
  p[1] = flags;
}

void encode_message(const Message& message, std::vector<uint8_t>& out) {
  // One visit sizes and writes the message, so the type is dispatched on once.
  std::visit(
      [&out](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        const size_t body = body_size(m);
        const size_t start = out.size();
        out.resize(start + 1 + varint_size(body) + body);
        uint8_t* p = out.data() + start;
        if constexpr (std::is_same_v<T, UserMessage>) {
          *p++ = m.type;
        } else {
          *p++ = static_cast<uint8_t>(message_tag<T>());
        }
        write_body(m, write_varint(body, p));
      },
      message);
}

std::vector<uint8_t> encode_packet(std::span<const Message> messages) {
  size_t total = kHeaderSize;
  for (const auto& m : messages) total += encoded_size(m);
  std::vector<uint8_t> out;
  out.reserve(total);
  encode_header(messages.size() > 1 ? kFlagCompound : 0, out);
  for (const auto& m : messages) encode_message(m, out);
  return out;
}

}  // namespace constellation::wire
