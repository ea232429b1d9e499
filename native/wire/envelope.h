// The envelope every packet and stream frame travels in: optional AES-GCM encryption with a
// keyring, and the cluster name bound into every packet so two clusters sharing a network (or
// even a key) never merge. Byte layout: docs/wire.md, "Envelope"; threat model:
// docs/security.md.
//
// The codec and the engine only ever see plain packets (header + messages). A host seals what
// the engine outputs just before it goes out and opens what arrives before the engine sees it:
//
//   engine datagram --seal--> socket --open--> engine.receive
//   engine frame --seal_frame--> stream --open_frame--> engine.serve_stream / stream_response
//
// Three forms on the wire, chosen by the sender's configuration:
//   - encrypted (the keyring is not empty): flag 0x02; the cluster name is GCM associated data
//     (and a 4-byte tag of it is sent in clear, so another cluster's packets are told apart
//     from forged ones without a decryption);
//   - labelled (no keys, a cluster name): flag 0x04; the name itself precedes the messages;
//   - plain (no keys, no name): unchanged from the codec's packet.
// A receiver accepts only the form its own configuration would send: with keys, nothing but
// an encrypted packet of its own cluster that a key in its ring opens; without keys, nothing
// but its own label (or no label, if it has no name).
//
// Nonces are 96 random bits per packet (RAND_bytes). NIST SP 800-38D §8.3 bounds random-nonce
// GCM at 2^32 messages per key; at 10,000 packets a second that is 13 years, so rotating keys
// yearly keeps a wide margin.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wire/keyring.h"
#include "wire/messages.h"

namespace constellation::wire {

// Packet header flag: a cluster label follows the header (plaintext packets only).
inline constexpr uint8_t kFlagLabelled = 0x04;

// Sizes of the encrypted form: header | cluster tag | key id | nonce | ciphertext | GCM tag.
inline constexpr size_t kClusterTagSize = 4;
inline constexpr size_t kKeyIdSize = 4;
inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;
inline constexpr size_t kSealedPrefixSize = kHeaderSize + kClusterTagSize + kKeyIdSize + kNonceSize;
// The smallest encrypted packet: one byte of ciphertext.
inline constexpr size_t kMinSealedSize = kSealedPrefixSize + 1 + kGcmTagSize;
inline constexpr size_t kMaxClusterNameBytes = 255;

// Why an envelope was refused. The first four share their names with wire::DecodeError, so a
// host can count both under one `rejected.{reason}` map.
enum class OpenError : uint8_t {
  kNone = 0,
  kTruncated,     // shorter than the form it claims (header, label, encrypted minimum, frame)
  kBadMagic,      // not "RADS"
  kBadVersion,    // a protocol version this build does not speak
  kBadField,      // unknown flag bits, or both encrypted and labelled
  kUnencrypted,   // encryption is on here and the packet is not encrypted
  kBadKey,        // encrypted under a key id no key in our ring has (or we have no keys)
  kWrongCluster,  // another cluster's label or cluster tag, or a label where none is expected
  kTampered,      // the GCM tag does not verify: changed, cut short, or forged with our key id
};
inline constexpr size_t kOpenErrorCount = 9;
const char* open_error_name(OpenError error);

// The cluster name a node binds into its packets (0..255 bytes; empty = no name), with its
// 4-byte tag precomputed: SHA-256("constellation/cluster\0" || name)[0..4).
class ClusterLabel {
 public:
  ClusterLabel() : ClusterLabel(std::string_view{}) {}
  // Names longer than kMaxClusterNameBytes are cut to that length; hosts validate first.
  explicit ClusterLabel(std::string_view name);

  const std::string& name() const { return name_; }
  const std::array<uint8_t, kClusterTagSize>& tag() const { return tag_; }

 private:
  std::string name_;
  std::array<uint8_t, kClusterTagSize> tag_{};
};

// Bytes `seal` adds to a plain packet with this configuration (a host lowers the engine's MTU
// by this much so sealed datagrams still fit the path MTU).
size_t seal_overhead(const Keyring* keys, const ClusterLabel& cluster);

// Writes the wire form of `packet` (a plain packet as the codec makes it: header with no flag
// but compound, then at least one byte of messages) to `out` (replaced). Encrypts with the
// primary key if `keys` is non-null and not empty. Returns false, with `out` empty, if `packet`
// is not such a packet or the system's random generator fails.
bool seal(std::span<const uint8_t> packet, const Keyring* keys, const ClusterLabel& cluster,
          std::vector<uint8_t>& out);

// Opens a packet in wire form into the plain packet the sender sealed (`out` is replaced). On
// error `out` is left empty or partial and must not be used.
OpenError open(std::span<const uint8_t> bytes, const Keyring* keys, const ClusterLabel& cluster,
               std::vector<uint8_t>& out);

// The same for a TCP frame (4-byte big-endian length | packet): seals or opens the packet
// inside and writes a whole frame with the new length to `out` (replaced). `open_frame` wants
// exactly one frame whose length prefix matches what follows (else kTruncated); hosts check
// the prefix against their frame limit first (read_frame_length) and read the whole frame.
bool seal_frame(std::span<const uint8_t> frame, const Keyring* keys, const ClusterLabel& cluster,
                std::vector<uint8_t>& out);
OpenError open_frame(std::span<const uint8_t> frame, const Keyring* keys,
                     const ClusterLabel& cluster, std::vector<uint8_t>& out);

}  // namespace constellation::wire
