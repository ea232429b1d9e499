// Checking outgoing values against the rules the decoder enforces (docs/wire.md,
// "Rejections"), so a node never gossips a message its peers would drop.
#include <algorithm>
#include <string>
#include <type_traits>

#include "wire/codec.h"

namespace constellation::wire {

namespace {

DecodeError check_length(const std::string& s, size_t min_len, size_t max_len) {
  if (s.size() < min_len) return DecodeError::kBadField;
  if (s.size() > max_len) return DecodeError::kOversize;
  return DecodeError::kNone;
}

DecodeError check_name(const std::string& name) { return check_length(name, 1, kMaxNameBytes); }

DecodeError check_address(const Address& address) {
  const bool known =
      address.family == Address::Family::kV4 || address.family == Address::Family::kV6;
  return known ? DecodeError::kNone : DecodeError::kBadField;
}

// The first failure of a list of checks, in field order (as the decoder would meet them).
template <typename... Errors>
DecodeError first_error(Errors... errors) {
  DecodeError result = DecodeError::kNone;
  ((result = result == DecodeError::kNone ? errors : result), ...);
  return result;
}

}  // namespace

DecodeError validate_record(const MemberRecord& record, const Limits& limits) {
  const size_t limit = std::min(limits.max_record_bytes, kMaxRecordBytesCeiling);
  DecodeError error =
      first_error(check_name(record.name), check_address(record.address),
                  static_cast<uint8_t>(record.state) > kMaxMemberState ? DecodeError::kBadField
                                                                       : DecodeError::kNone);
  for (const auto& [key, value] : record.tags) {
    if (error != DecodeError::kNone) break;
    error = first_error(check_name(key), check_length(value, 0, limit));
  }
  if (error == DecodeError::kNone && encoded_record_size(record) > limit) {
    error = DecodeError::kOversize;
  }
  return error;
}

DecodeError validate_message(const Message& message, const Limits& limits) {
  return std::visit(
      [&limits](const auto& m) -> DecodeError {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Ping>) {
          return first_error(check_name(m.source), check_name(m.target));
        } else if constexpr (std::is_same_v<T, Ack> || std::is_same_v<T, Nack>) {
          return check_name(m.source);
        } else if constexpr (std::is_same_v<T, PingReq>) {
          return first_error(check_name(m.source), check_name(m.target),
                             check_address(m.target_address));
        } else if constexpr (std::is_same_v<T, Alive>) {
          return validate_record(m.member, limits);
        } else if constexpr (std::is_same_v<T, Suspect> || std::is_same_v<T, Dead>) {
          return first_error(check_name(m.target), check_name(m.from));
        } else if constexpr (std::is_same_v<T, Leave>) {
          return check_name(m.name);
        } else if constexpr (std::is_same_v<T, SyncRequest> || std::is_same_v<T, SyncResponse>) {
          if constexpr (std::is_same_v<T, SyncRequest>) {
            if (!m.have.empty() && (m.have.hashes == 0 || m.have.hashes > kMaxHaveFilterHashes)) {
              return DecodeError::kBadField;
            }
            if (m.have.bits.size() > kMaxHaveFilterBytes) return DecodeError::kOversize;
          }
          for (const auto& record : m.members) {
            if (const DecodeError error = validate_record(record, limits);
                error != DecodeError::kNone) {
              return error;
            }
          }
          return DecodeError::kNone;
        } else {
          return m.type >= static_cast<uint8_t>(MessageType::kUserFirst) ? DecodeError::kNone
                                                                         : DecodeError::kBadField;
        }
      },
      message);
}

}  // namespace constellation::wire
