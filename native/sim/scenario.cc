#include "sim/scenario.h"

namespace constellation::sim {

const char* action_name(ActionKind kind) {
  switch (kind) {
    case ActionKind::kCrash:
      return "crash";
    case ActionKind::kRestart:
      return "restart";
    case ActionKind::kPause:
      return "pause";
    case ActionKind::kResume:
      return "resume";
    case ActionKind::kPartition:
      return "partition";
    case ActionKind::kHeal:
      return "heal";
    case ActionKind::kIngressLoss:
      return "ingressLoss";
    case ActionKind::kEgressLoss:
      return "egressLoss";
    case ActionKind::kLoss:
      return "loss";
    case ActionKind::kUpdate:
      return "update";
    case ActionKind::kLeave:
      return "leave";
    case ActionKind::kFlood:
      return "flood";
  }
  return "unknown";
}

}  // namespace constellation::sim
