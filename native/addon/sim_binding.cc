// JavaScript access to the simulator: filled in with native/sim.
#include "addon/bindings.h"

namespace constellation::addon {

void RegisterSim(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace constellation::addon
