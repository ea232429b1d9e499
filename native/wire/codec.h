// The wire codec: messages <-> bytes. Layout in docs/wire.md.
//
// A datagram is a 6-byte header (magic "RADS" big-endian, version, flags) followed by one or
// more messages, each `type (1 byte) | body length (varint) | body`. Integers inside bodies are
// unsigned LEB128 varints unless docs/wire.md says otherwise; fixed-width fields are
// big-endian. Decoding never reads past the end of its input, checks every length against what
// remains before allocating, and reports a typed reason for a rejection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "wire/messages.h"

namespace constellation::wire {

enum class DecodeError : uint8_t {
  kNone = 0,
  kTruncated,   // a length or field runs past the end of the input
  kBadMagic,    // the packet does not start with "RADS"
  kBadVersion,  // a protocol version this build does not speak
  kOversize,    // a length above a configured or hard limit (record, name, frame)
  kBadField,    // a value out of range: state, address family, flag bits, overlong varint
};
inline constexpr size_t kDecodeErrorCount = 6;
const char* error_name(DecodeError error);

struct Limits {
  size_t max_record_bytes = kDefaultMaxRecordBytes;  // encoded size of one MemberRecord
};

struct DecodedPacket {
  uint8_t flags = 0;
  std::vector<Message> messages;
  size_t skipped_unknown = 0;  // messages of a type this build does not know
};

// Decodes one datagram (or one stream frame's payload). On error `out` holds what was decoded
// before the error and must not be used.
DecodeError decode_packet(std::span<const uint8_t> bytes, const Limits& limits, DecodedPacket& out);

// Decodes the messages that follow a packet header (what an opened encryption envelope holds).
// Sets `out.messages` and `out.skipped_unknown`, leaves `out.flags` alone. No message at all ->
// kTruncated; a type byte of 0 -> kBadField.
DecodeError decode_messages(std::span<const uint8_t> bytes, const Limits& limits,
                            DecodedPacket& out);

// Decodes one message body of a known type (no header). Used by the packet decoder and fuzzers.
// A user type (0x80..0xFF) gives a UserMessage; 0 or an unknown type (0x0B..0x7F) is kBadField
// (the packet decoder skips unknown types before it gets here).
DecodeError decode_message(MessageType type, std::span<const uint8_t> body, const Limits& limits,
                           Message& out);

// Bytes `encode_message` appends for this message: type, length, body.
size_t encoded_size(const Message& message);
// Bytes of one member record as encoded inside ALIVE and SYNC messages.
size_t encoded_record_size(const MemberRecord& record);

// What the decoder would say about this message once encoded (kNone: peers will accept it).
// The encoder writes whatever it is given; callers that take values from outside (the engine's
// local metadata, the JS API) check them here first: an empty or over-long name or tag key
// (kBadField / kOversize), a record above `limits` (kOversize), an out-of-range state, address
// family or user type (kBadField).
DecodeError validate_message(const Message& message, const Limits& limits);
DecodeError validate_record(const MemberRecord& record, const Limits& limits);

void encode_header(uint8_t flags, std::vector<uint8_t>& out);
void encode_message(const Message& message, std::vector<uint8_t>& out);

// A whole packet from a list of messages (sets the compound flag when there is more than one).
std::vector<uint8_t> encode_packet(std::span<const Message> messages);

// Packs messages into one datagram no larger than `mtu` bytes. `add` refuses a message that
// does not fit, leaving the packet unchanged.
class PacketBuilder {
 public:
  explicit PacketBuilder(size_t mtu = kDefaultMtu);

  bool add(const Message& message);
  bool fits(size_t message_bytes) const { return buffer_.size() + message_bytes <= mtu_; }
  size_t remaining() const { return mtu_ > buffer_.size() ? mtu_ - buffer_.size() : 0; }
  size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The finished datagram; the builder is reset afterwards.
  std::vector<uint8_t> take();

 private:
  size_t mtu_;
  size_t count_ = 0;
  std::vector<uint8_t> buffer_;
};

// TCP framing for SYNC: a 4-byte big-endian length, then a packet as above.
inline constexpr size_t kFrameHeaderSize = 4;
std::vector<uint8_t> encode_frame(const Message& message);

// One entry of a member table as a SYNC carries it: a record, with the state and incarnation
// the sender believes in place of the record's own.
struct TableEntry {
  const MemberRecord* record = nullptr;
  MemberState state = MemberState::kAlive;
  uint64_t incarnation = 0;
  // Optional: `*record` already encoded as an ALIVE message (encode_message of Alive{*record}).
  // When the entry's incarnation is the record's, its bytes are copied instead of encoding
  // the record again (only the state byte differs).
  std::span<const uint8_t> alive_message;
};
// The frame encode_frame(SyncRequest or SyncResponse{join, members}) gives, byte for byte,
// written straight from table entries: a SYNC of a 10,000-member table need not copy 10,000
// records (their names, addresses and tags) into a message first.
std::vector<uint8_t> encode_sync_frame(bool response, bool join,
                                       std::span<const TableEntry> members);
// Reads the length prefix; kTruncated if fewer than 4 bytes, kOversize above `max_frame_bytes`.
DecodeError read_frame_length(std::span<const uint8_t> bytes, size_t max_frame_bytes,
                              uint32_t& length);

}  // namespace constellation::wire
