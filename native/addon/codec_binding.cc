// JavaScript access to the wire codec for tests and tools: filled in with native/wire.
#include "addon/bindings.h"

namespace constellation::addon {

void RegisterCodec(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace constellation::addon
