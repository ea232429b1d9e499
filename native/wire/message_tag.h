// The type byte of each message struct, known at compile time, so code that already holds a
// concrete message (the encoder inside its visit) need not dispatch on the variant again.
#pragma once

#include <type_traits>

#include "wire/messages.h"

namespace constellation::wire {

// UserMessage carries its own type byte at run time and has no entry here.
template <typename T>
constexpr MessageType message_tag() {
  if constexpr (std::is_same_v<T, Ping>) return MessageType::kPing;
  if constexpr (std::is_same_v<T, Ack>) return MessageType::kAck;
  if constexpr (std::is_same_v<T, PingReq>) return MessageType::kPingReq;
  if constexpr (std::is_same_v<T, Nack>) return MessageType::kNack;
  if constexpr (std::is_same_v<T, Alive>) return MessageType::kAlive;
  if constexpr (std::is_same_v<T, Suspect>) return MessageType::kSuspect;
  if constexpr (std::is_same_v<T, Dead>) return MessageType::kDead;
  if constexpr (std::is_same_v<T, Leave>) return MessageType::kLeave;
  if constexpr (std::is_same_v<T, SyncRequest>) return MessageType::kSyncRequest;
  if constexpr (std::is_same_v<T, SyncResponse>) return MessageType::kSyncResponse;
  static_assert(!std::is_same_v<T, UserMessage>, "a user message's type is in the message");
}

}  // namespace constellation::wire
