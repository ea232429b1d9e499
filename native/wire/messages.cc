// Names and type tags of the wire messages (for logs, the JS binding and tests).
#include "wire/messages.h"

#include <type_traits>

#include "wire/message_tag.h"

namespace constellation::wire {

MessageType type_of(const Message& message) {
  return std::visit(
      [](const auto& m) -> MessageType {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, UserMessage>) {
          return static_cast<MessageType>(m.type);
        } else {
          return message_tag<T>();
        }
      },
      message);
}

const char* type_name(MessageType type) {
  switch (type) {
    case MessageType::kPing:
      return "ping";
    case MessageType::kAck:
      return "ack";
    case MessageType::kPingReq:
      return "ping_req";
    case MessageType::kNack:
      return "nack";
    case MessageType::kAlive:
      return "alive";
    case MessageType::kSuspect:
      return "suspect";
    case MessageType::kDead:
      return "dead";
    case MessageType::kLeave:
      return "leave";
    case MessageType::kSyncRequest:
      return "sync_request";
    case MessageType::kSyncResponse:
      return "sync_response";
    default:
      break;
  }
  return static_cast<uint8_t>(type) >= static_cast<uint8_t>(MessageType::kUserFirst) ? "user"
                                                                                     : "unknown";
}

const char* state_name(MemberState state) {
  switch (state) {
    case MemberState::kAlive:
      return "alive";
    case MemberState::kSuspect:
      return "suspect";
    case MemberState::kDead:
      return "dead";
    case MemberState::kLeft:
      return "left";
  }
  return "unknown";
}

}  // namespace constellation::wire
