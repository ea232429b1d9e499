// Test access to one engine (foca-style unit tests): filled in with native/core.
#include "addon/bindings.h"

namespace constellation::addon {

void RegisterEngine(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace constellation::addon
